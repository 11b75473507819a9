namespace Telemetry.Contracts;

/// <summary>
/// One answered question of one submitted attempt. Immutable; versioned additively
/// (new optional members only — a breaking change is a new message type).
/// </summary>
/// <param name="EventId">Deterministic from (AttemptId, QuestionId): see <see cref="AnswerEventId"/>.</param>
/// <param name="ScoreBasisPoints">The whole attempt's score, 0–10000.</param>
/// <param name="AutoDecision">One of <see cref="AutoDecisions"/>.</param>
/// <param name="CreatedAt">UTC, set once when the attempt was accepted; the partition key downstream.</param>
/// <param name="AnswerIndex">0-based position of this answer within the attempt.</param>
/// <param name="AnswerCount">How many answers the attempt has; the event with index 0 carries the attempt-level counts.</param>
public sealed record AnswerSubmitted(
    Guid EventId,
    Guid AttemptId,
    string WalletAddress,
    Guid TrackId,
    Guid QuestionId,
    string SelectedAnswer,
    bool IsCorrect,
    int ScoreBasisPoints,
    int AttemptDurationSec,
    int LevelAtTime,
    string AutoDecision,
    int? CycleNumber,
    DateTimeOffset CreatedAt,
    int AnswerIndex,
    int AnswerCount);

public static class AutoDecisions
{
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const string Pending = "pending";

    public static bool IsKnown(string? value) => value is Approved or Rejected or Pending;
}
