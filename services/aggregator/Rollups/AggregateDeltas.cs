using Telemetry.Contracts;

namespace Telemetry.Aggregator.Rollups;

/// <summary>One question's counts for one UTC day: every answer is one attempt at the question.</summary>
public sealed record QuestionDelta(Guid QuestionId, DateOnly Day, Guid TrackId, long Attempts, long Correct, long DurationSumSec);

/// <summary>One track's or cycle's counts for one UTC day: an attempt counts once (through its answer with index 0).</summary>
public sealed record GroupDelta<TKey>(TKey Key, DateOnly Day, long Attempts, long Answers, long Correct, long DurationSumSec);

/// <summary>
/// Additive deltas (counts and sums, never averages) of events not applied before, per key and per UTC day of the
/// events' createdAt, so a late or out-of-order event lands in its own day. Totals are these summed over days.
/// </summary>
public sealed record AggregateDeltas(
    IReadOnlyList<QuestionDelta> Questions,
    IReadOnlyList<GroupDelta<Guid>> Tracks,
    IReadOnlyList<GroupDelta<int>> Cycles)
{
    public static DateOnly DayOf(AnswerSubmitted e) => DateOnly.FromDateTime(e.CreatedAt.UtcDateTime);

    public static AggregateDeltas From(IReadOnlyCollection<AnswerSubmitted> freshEvents)
    {
        var questions = freshEvents
            .GroupBy(e => (e.QuestionId, Day: DayOf(e)))
            .Select(g => new QuestionDelta(g.Key.QuestionId, g.Key.Day, g.First().TrackId, g.LongCount(), g.LongCount(e => e.IsCorrect), g.Sum(e => (long)e.AttemptDurationSec)))
            .OrderBy(d => d.QuestionId).ThenBy(d => d.Day)
            .ToList();
        var tracks = Group(freshEvents, e => e.TrackId).ToList();
        var cycles = Group(freshEvents.Where(e => e.CycleNumber is not null), e => e.CycleNumber!.Value).ToList();
        return new AggregateDeltas(questions, tracks, cycles);
    }

    private static IEnumerable<GroupDelta<TKey>> Group<TKey>(IEnumerable<AnswerSubmitted> events, Func<AnswerSubmitted, TKey> key) where TKey : notnull =>
        events
            .GroupBy(e => (Key: key(e), Day: DayOf(e)))
            .Select(g => new GroupDelta<TKey>(
                g.Key.Key,
                g.Key.Day,
                Attempts: g.LongCount(e => e.AnswerIndex == 0),
                Answers: g.LongCount(),
                Correct: g.LongCount(e => e.IsCorrect),
                DurationSumSec: g.Where(e => e.AnswerIndex == 0).Sum(e => (long)e.AttemptDurationSec)))
            .OrderBy(d => d.Key).ThenBy(d => d.Day);
}
