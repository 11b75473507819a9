using Telemetry.AttemptsApi.Http;

namespace Telemetry.AttemptsApi.Catalogue;

public sealed record TrackRequest(string? Title, int? PassThresholdPct, int? ReviewBandPct, int? MinSecondsPerQuestion, List<QuestionRequest?>? Questions);

public sealed record QuestionRequest(string? QuestionId, string? CorrectAnswer);

public sealed record Question(Guid QuestionId, string CorrectAnswer);

/// <summary>A track with its auto-review settings and its questions, in order.</summary>
public sealed record Track(Guid TrackId, string Title, int PassThresholdPct, int ReviewBandPct, int MinSecondsPerQuestion, IReadOnlyList<Question> Questions)
{
    public const int DefaultReviewBandPct = 10;
    public const int DefaultMinSecondsPerQuestion = 2;

    public static Track? Validate(Guid trackId, TrackRequest request, ValidationErrors errors)
    {
        var title = errors.Text("title", request.Title, CatalogueLimits.MaxTitleLength, trim: true);
        var pass = errors.Number("passThresholdPct", request.PassThresholdPct, 0, 100);
        // The band lies below the threshold; checked against 100 while the threshold itself is invalid.
        var bandLimit = request.PassThresholdPct is >= 0 and <= 100 ? pass : 100;
        var band = errors.Number("reviewBandPct", request.ReviewBandPct ?? Math.Min(DefaultReviewBandPct, pass), 0, bandLimit);
        var minSeconds = errors.Number("minSecondsPerQuestion", request.MinSecondsPerQuestion ?? DefaultMinSecondsPerQuestion, 0, CatalogueLimits.MaxSecondsPerQuestion);

        var questions = new List<Question>();
        if (request.Questions is not { Count: > 0 })
            errors.Add("questions", "must contain at least one question.");
        else if (request.Questions.Count > CatalogueLimits.MaxQuestionsPerTrack)
            errors.Add("questions", $"must contain at most {CatalogueLimits.MaxQuestionsPerTrack} questions.");
        else
        {
            var firstIndexOf = new Dictionary<Guid, int>();
            for (var i = 0; i < request.Questions.Count; i++)
            {
                var field = $"questions[{i}]";
                if (request.Questions[i] is not { } question)
                {
                    errors.Add(field, "must be an object with questionId and correctAnswer.");
                    continue;
                }
                var id = errors.Uuid($"{field}.questionId", question.QuestionId);
                var answer = errors.Text($"{field}.correctAnswer", question.CorrectAnswer, CatalogueLimits.MaxAnswerLength);
                if (id != Guid.Empty && !firstIndexOf.TryAdd(id, i))
                    errors.Add($"{field}.questionId", $"duplicates questions[{firstIndexOf[id]}].questionId.");
                questions.Add(new Question(id, answer));
            }
        }
        return errors.IsEmpty ? new Track(trackId, title, pass, band, minSeconds, questions) : null;
    }
}

public sealed record TrackSummary(Guid TrackId, string Title, int PassThresholdPct, int ReviewBandPct, int MinSecondsPerQuestion, int QuestionCount, DateTimeOffset UpdatedAt);

public sealed record TrackResponse(
    Guid TrackId,
    string Title,
    int PassThresholdPct,
    int ReviewBandPct,
    int MinSecondsPerQuestion,
    IReadOnlyList<Question> Questions,
    DateTimeOffset UpdatedAt);

public sealed record CycleRequest(DateTimeOffset? StartsAt, DateTimeOffset? EndsAt);

public sealed record Cycle(int CycleNumber, DateTimeOffset StartsAt, DateTimeOffset EndsAt, DateTimeOffset UpdatedAt);

public static class CatalogueMappings
{
    public static TrackResponse ToResponse(this Track track, DateTimeOffset updatedAt) =>
        new(track.TrackId, track.Title, track.PassThresholdPct, track.ReviewBandPct, track.MinSecondsPerQuestion, track.Questions, updatedAt);
}
