using Telemetry.Aggregator.Rollups;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.UnitTests;

public sealed class AggregateDeltasTests
{
    private static readonly Guid TrackA = Guid.Parse("10000000-0000-0000-0000-000000000000");
    private static readonly Guid TrackB = Guid.Parse("20000000-0000-0000-0000-000000000000");
    private static readonly Guid Q1 = Guid.Parse("00000000-0000-0000-0000-000000000001");
    private static readonly Guid Q2 = Guid.Parse("00000000-0000-0000-0000-000000000002");
    private static readonly Guid Q3 = Guid.Parse("00000000-0000-0000-0000-000000000003");
    private static readonly DateTimeOffset Noon = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Today = DateOnly.FromDateTime(Noon.UtcDateTime);

    [Fact]
    public void A_track_counts_each_attempt_once_however_many_answers_it_has()
    {
        var events = SampleEvents.Attempt(TrackA, [(Q1, true), (Q2, false)], durationSec: 40, createdAt: Noon)
            .Concat(SampleEvents.Attempt(TrackA, [(Q1, true)], durationSec: 20, createdAt: Noon))
            .ToList();

        var track = Assert.Single(AggregateDeltas.From(events).Tracks);

        Assert.Equal(new GroupDelta<Guid>(TrackA, Today, Attempts: 2, Answers: 3, Correct: 2, DurationSumSec: 60), track);
    }

    [Fact]
    public void A_question_counts_every_answer_and_sums_the_attempt_durations()
    {
        var events = SampleEvents.Attempt(TrackA, [(Q1, true), (Q2, false)], durationSec: 40, createdAt: Noon)
            .Concat(SampleEvents.Attempt(TrackA, [(Q1, false)], durationSec: 20, createdAt: Noon))
            .ToList();

        var q1 = Assert.Single(AggregateDeltas.From(events).Questions, q => q.QuestionId == Q1);

        Assert.Equal(new QuestionDelta(Q1, Today, TrackA, Attempts: 2, Correct: 1, DurationSumSec: 60), q1);
    }

    [Fact]
    public void Only_events_with_a_cycle_reach_cycle_deltas()
    {
        var events = SampleEvents.Attempt(TrackA, [(Q1, true)], cycleNumber: 7)
            .Concat(SampleEvents.Attempt(TrackA, [(Q2, true)], cycleNumber: null))
            .ToList();

        var cycle = Assert.Single(AggregateDeltas.From(events).Cycles);

        Assert.Equal((7, 1L, 1L), (cycle.Key, cycle.Attempts, cycle.Answers));
    }

    [Fact]
    public void A_partial_batch_without_the_first_answer_adds_answers_but_no_attempt()
    {
        var secondAnswerOnly = SampleEvents.Attempt(TrackA, [(Q1, true), (Q2, true)], durationSec: 30).Skip(1).ToList();

        var track = Assert.Single(AggregateDeltas.From(secondAnswerOnly).Tracks);

        Assert.Equal((0L, 1L, 0L), (track.Attempts, track.Answers, track.DurationSumSec));
    }

    [Fact]
    public void Deltas_come_out_in_ascending_key_order_so_replicas_lock_rows_in_the_same_order()
    {
        var events = SampleEvents.Attempt(TrackB, [(Q3, true), (Q1, true)])
            .Concat(SampleEvents.Attempt(TrackA, [(Q2, true)]))
            .ToList();

        var deltas = AggregateDeltas.From(events);

        Assert.Equal([Q1, Q2, Q3], deltas.Questions.Select(q => q.QuestionId));
        Assert.Equal([TrackA, TrackB], deltas.Tracks.Select(t => t.Key));
    }

    [Fact]
    public void Late_events_land_in_the_day_they_were_created_not_the_day_they_arrive()
    {
        var events = SampleEvents.Attempt(TrackA, [(Q1, true)], createdAt: Noon.AddDays(-3))
            .Concat(SampleEvents.Attempt(TrackA, [(Q1, false)], createdAt: Noon))
            .Concat(SampleEvents.Attempt(TrackA, [(Q1, true)], createdAt: Noon.AddDays(-3).AddHours(11.9)))
            .ToList();

        var deltas = AggregateDeltas.From(events);

        Assert.Equal([(Today.AddDays(-3), 2L, 2L), (Today, 1L, 0L)], deltas.Questions.Select(q => (q.Day, q.Attempts, q.Correct)));
        Assert.Equal([(Today.AddDays(-3), 2L), (Today, 1L)], deltas.Tracks.Select(t => (t.Day, t.Attempts)));
    }
}
