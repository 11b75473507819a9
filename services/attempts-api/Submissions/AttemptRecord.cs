using Telemetry.Contracts;

namespace Telemetry.AttemptsApi.Submissions;

/// <summary>The 202 body, also answered again on an idempotent replay.</summary>
public sealed record SubmitResponse(
    Guid AttemptId,
    decimal ScorePct,
    int CorrectCount,
    int AnsweredCount,
    string AutoDecision,
    int LevelAtTime,
    int? CycleNumber,
    int EventsLogged);

/// <summary>One row of the attempts table.</summary>
public sealed record AttemptRecord(
    Guid AttemptId,
    string WalletAddress,
    Guid TrackId,
    byte[] RequestHash,
    int DurationSec,
    int AnsweredCount,
    int CorrectCount,
    int ScoreBasisPoints,
    string AutoDecision,
    int LevelAtTime,
    int? CycleNumber,
    DateTimeOffset CreatedAt)
{
    public SubmitResponse ToResponse() =>
        new(AttemptId, ScoreBasisPoints / 100m, CorrectCount, AnsweredCount, AutoDecision, LevelAtTime, CycleNumber, EventsLogged: AnsweredCount);

    /// <summary>One event per answered question, in the order the answers were given.</summary>
    public IReadOnlyList<AnswerSubmitted> ToEvents(Submission submission, GradingTrack track) =>
        submission.Answers.Select((answer, index) => new AnswerSubmitted(
            AnswerEventId.For(AttemptId, answer.QuestionId),
            AttemptId,
            WalletAddress,
            TrackId,
            answer.QuestionId,
            answer.SelectedAnswer,
            Grader.IsCorrect(answer.SelectedAnswer, track.CorrectAnswers[answer.QuestionId]),
            ScoreBasisPoints,
            DurationSec,
            LevelAtTime,
            AutoDecision,
            CycleNumber,
            CreatedAt,
            AnswerIndex: index,
            AnswerCount: submission.Answers.Count)).ToList();

    /// <summary>PostgreSQL keeps microseconds: truncate up front so the row and its events carry the same instant.</summary>
    public static DateTimeOffset Timestamp(DateTimeOffset now) => new(now.UtcTicks - now.UtcTicks % 10, TimeSpan.Zero);
}
