namespace Telemetry.AttemptsApi.Catalogue;

/// <summary>Limits shared by the catalogue and submissions; the answer length matches the questions table's check.</summary>
public static class CatalogueLimits
{
    public const int MaxTitleLength = 200;
    public const int MaxQuestionsPerTrack = 500;
    public const int MaxAnswerLength = 500;
    public const int MaxSecondsPerQuestion = 3600;
}
