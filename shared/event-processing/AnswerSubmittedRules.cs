using Telemetry.Contracts;

namespace Telemetry.EventProcessing;

/// <summary>What makes an AnswerSubmitted storable. A message that breaks a rule is dead-lettered with the reason.</summary>
public static class AnswerSubmittedRules
{
    public const int MaxAnswersPerAttempt = 1000;
    public const int MaxDurationSec = 86_400;
    public const int MaxTextLength = 500;

    public static string? Violation(AnswerSubmitted m) =>
        m.AttemptId == Guid.Empty ? "attemptId is empty"
        : m.QuestionId == Guid.Empty ? "questionId is empty"
        : m.TrackId == Guid.Empty ? "trackId is empty"
        : m.EventId != AnswerEventId.For(m.AttemptId, m.QuestionId) ? "eventId is not the deterministic id of (attemptId, questionId)"
        : string.IsNullOrWhiteSpace(m.WalletAddress) || m.WalletAddress.Length > 200 || m.WalletAddress.Contains('\0')
            ? "walletAddress is empty, longer than 200 characters or holds a NUL character"
        // PostgreSQL text cannot hold NUL: both consumers refuse it alike, so raw events and aggregates stay equal.
        : m.SelectedAnswer is null || m.SelectedAnswer.Length > MaxTextLength || m.SelectedAnswer.Contains('\0')
            ? $"selectedAnswer is missing, longer than {MaxTextLength} characters or holds a NUL character"
        : m.ScoreBasisPoints is < 0 or > 10_000 ? "scoreBasisPoints is outside 0..10000"
        : m.AttemptDurationSec is < 0 or > MaxDurationSec ? $"attemptDurationSec is outside 0..{MaxDurationSec}"
        : m.LevelAtTime < 1 ? "levelAtTime is below 1"
        : !AutoDecisions.IsKnown(m.AutoDecision) ? "autoDecision is not approved, rejected or pending"
        : m.CycleNumber is <= 0 ? "cycleNumber is not positive"
        : m.AnswerCount is < 1 or > MaxAnswersPerAttempt ? $"answerCount is outside 1..{MaxAnswersPerAttempt}"
        : m.AnswerIndex < 0 || m.AnswerIndex >= m.AnswerCount ? "answerIndex is outside 0..answerCount-1"
        : m.CreatedAt == default ? "createdAt is missing"
        : null;
}
