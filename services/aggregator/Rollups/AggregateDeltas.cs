using Telemetry.Contracts;

namespace Telemetry.Aggregator.Rollups;

public sealed record QuestionDelta(Guid QuestionId, Guid TrackId, long Attempts, long Correct, long DurationSumSec);

/// <summary>Per track or per cycle: an attempt counts once (through its answer with index 0); answers count each.</summary>
public sealed record GroupDelta<TKey>(TKey Key, long Attempts, long Answers, long Correct, long DurationSumSec);

/// <summary>Additive deltas (counts and sums, never averages) of events not applied before, each list in key order.</summary>
public sealed record AggregateDeltas(
    IReadOnlyList<QuestionDelta> Questions,
    IReadOnlyList<GroupDelta<Guid>> Tracks,
    IReadOnlyList<GroupDelta<int>> Cycles)
{
    public static AggregateDeltas From(IReadOnlyCollection<AnswerSubmitted> freshEvents)
    {
        var questions = freshEvents
            .GroupBy(e => e.QuestionId)
            .Select(g => new QuestionDelta(g.Key, g.First().TrackId, g.LongCount(), g.LongCount(e => e.IsCorrect), g.Sum(e => (long)e.AttemptDurationSec)))
            .OrderBy(d => d.QuestionId)
            .ToList();
        var tracks = Group(freshEvents, e => e.TrackId).ToList();
        var cycles = Group(freshEvents.Where(e => e.CycleNumber is not null), e => e.CycleNumber!.Value).ToList();
        return new AggregateDeltas(questions, tracks, cycles);
    }

    private static IEnumerable<GroupDelta<TKey>> Group<TKey>(IEnumerable<AnswerSubmitted> events, Func<AnswerSubmitted, TKey> key) where TKey : notnull =>
        events
            .GroupBy(key)
            .Select(g => new GroupDelta<TKey>(
                g.Key,
                Attempts: g.LongCount(e => e.AnswerIndex == 0),
                Answers: g.LongCount(),
                Correct: g.LongCount(e => e.IsCorrect),
                DurationSumSec: g.Where(e => e.AnswerIndex == 0).Sum(e => (long)e.AttemptDurationSec)))
            .OrderBy(d => d.Key);
}
