using Telemetry.Contracts;
using Telemetry.StatsApi.Stats;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.IntegrationTests;

public sealed class PipelineTests(PipelineFixture pipeline) : IClassFixture<PipelineFixture>
{
    [Fact]
    public async Task Published_events_land_once_in_answer_events_and_in_every_aggregate()
    {
        var track = Guid.NewGuid();
        var (q1, q2, q3) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var cycle = Random.Shared.Next(1000, 1_000_000);
        var attemptA = SampleEvents.Attempt(track, [(q1, true), (q2, true), (q3, false)], durationSec: 90, cycleNumber: cycle);
        var attemptB = SampleEvents.Attempt(track, [(q1, false), (q2, true)], durationSec: 30, cycleNumber: cycle);

        await pipeline.Publisher.PublishAllAsync([.. attemptA, .. attemptB]);
        await WaitForTrackAsync(track, attempts: 2);

        Assert.Equal(5, await pipeline.Database.ScalarAsync<long>("SELECT count(*) FROM answer_events WHERE track_id = $1", track));
        var stats = Assert.Single(await pipeline.GetListAsync<TrackStats>("/api/stats/tracks"), t => t.TrackId == track);
        Assert.Equal((2, 5, 3), (stats.AttemptsTotal, stats.AnswersTotal, stats.CorrectTotal));
        Assert.Equal(60f, stats.AccuracyPct);
        Assert.Equal(60f, stats.AvgDurationSec);

        var questions = await pipeline.GetListAsync<QuestionStats>($"/api/stats/questions?trackId={track}");
        var first = Assert.Single(questions, q => q.QuestionId == q1);
        Assert.Equal((2L, 1L, 50f, 60f), (first.AttemptsTotal, first.CorrectTotal, first.AccuracyPct, first.AvgDurationSec));
        Assert.Equal(3, questions.Count);

        Assert.Equal("2/5/3", await pipeline.Database.ScalarAsync<string>(
            "SELECT format('%s/%s/%s', attempts_total, answers_total, correct_total) FROM cycle_aggregates WHERE cycle_number = $1", cycle));
    }

    [Fact]
    public async Task Every_event_delivered_twice_is_stored_and_counted_once()
    {
        var track = Guid.NewGuid();
        var events = Enumerable.Range(0, 20)
            .SelectMany(_ => SampleEvents.Attempt(track, [(Guid.NewGuid(), true), (Guid.NewGuid(), false)], durationSec: 10))
            .ToList();

        await pipeline.Publisher.PublishAllAsync(events);
        await pipeline.Publisher.PublishAllAsync(events.AsEnumerable().Reverse());
        await WaitForTrackAsync(track, attempts: 20);
        await pipeline.WaitUntilDrainedAsync();

        Assert.Equal(40, await pipeline.Database.ScalarAsync<long>("SELECT count(*) FROM answer_events WHERE track_id = $1", track));
        var stats = Assert.Single(await pipeline.GetListAsync<TrackStats>("/api/stats/tracks"), t => t.TrackId == track);
        Assert.Equal((20, 40, 20), (stats.AttemptsTotal, stats.AnswersTotal, stats.CorrectTotal));
    }

    [Fact]
    public async Task A_corrupt_event_is_dead_lettered_with_its_reason_and_the_rest_of_its_batch_is_stored()
    {
        var track = Guid.NewGuid();
        var good = SampleEvents.Attempt(track, [(Guid.NewGuid(), true), (Guid.NewGuid(), true)]);
        var corrupt = SampleEvents.Attempt(track, [(Guid.NewGuid(), true)])[0] with { ScoreBasisPoints = 20_000 };
        var tooOld = SampleEvents.Attempt(track, [(Guid.NewGuid(), true)], createdAt: DateTimeOffset.UtcNow.AddDays(-400))[0];

        await pipeline.Publisher.PublishAllAsync([good[0], corrupt, tooOld, good[1]]);
        await WaitForTrackAsync(track, attempts: 1);
        await Eventually.Until(() => pipeline.Broker.QueueDepthAsync("event-ingestor_error"), d => d.Ready == 2, TimeSpan.FromSeconds(30), "two dead letters for the ingestor");
        await Eventually.Until(() => pipeline.Broker.QueueDepthAsync("aggregator_error"), d => d.Ready == 2, TimeSpan.FromSeconds(30), "two dead letters for the aggregator");

        Assert.Equal(2, await pipeline.Database.ScalarAsync<long>("SELECT count(*) FROM answer_events WHERE track_id = $1", track));
        var stats = Assert.Single(await pipeline.GetListAsync<TrackStats>("/api/stats/tracks"), t => t.TrackId == track);
        Assert.Equal((1, 2, 2), (stats.AttemptsTotal, stats.AnswersTotal, stats.CorrectTotal));
    }

    private Task WaitForTrackAsync(Guid track, long attempts) =>
        Eventually.Until(
            async () => (await pipeline.GetListAsync<TrackStats>("/api/stats/tracks")).SingleOrDefault(t => t.TrackId == track)?.AttemptsTotal ?? 0,
            total => total >= attempts,
            TimeSpan.FromSeconds(60),
            $"track {track} to show {attempts} attempts");
}
