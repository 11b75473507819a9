using Telemetry.Contracts;

namespace Telemetry.Testing;

/// <summary>Builds valid AnswerSubmitted events for whole attempts.</summary>
public static class SampleEvents
{
    public static IReadOnlyList<AnswerSubmitted> Attempt(
        Guid trackId, IReadOnlyList<(Guid QuestionId, bool IsCorrect)> answers, int durationSec = 60, int? cycleNumber = null,
        DateTimeOffset? createdAt = null, string wallet = "0xabc", Guid? attemptId = null)
    {
        var id = attemptId ?? Guid.NewGuid();
        var correct = answers.Count(a => a.IsCorrect);
        var score = answers.Count == 0 ? 0 : correct * 10_000 / answers.Count;
        var at = createdAt ?? DateTimeOffset.UtcNow;
        return answers.Select((a, index) => new AnswerSubmitted(
            AnswerEventId.For(id, a.QuestionId), id, wallet, trackId, a.QuestionId, a.IsCorrect ? "right" : "wrong", a.IsCorrect,
            score, durationSec, 1, score >= 7000 ? AutoDecisions.Approved : AutoDecisions.Rejected, cycleNumber, at, index, answers.Count)).ToList();
    }
}
