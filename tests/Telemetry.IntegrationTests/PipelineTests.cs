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

        // The ingestor and the aggregator consume independently: the aggregates can be complete before the raw events.
        var stored = await Eventually.Until(
            () => pipeline.Database.ScalarAsync<long>("SELECT count(*) FROM answer_events WHERE track_id = $1", track),
            count => count >= 5, TimeSpan.FromSeconds(30), "five answer events");
        Assert.Equal(5, stored);
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

        // Something that is not a MassTransit message at all comes first: MassTransit faults it and declares each error
        // queue itself, and the consumers' own dead letters must then still reach those queues.
        await pipeline.Broker.PublishRawAsync(AnswerSubmittedExchange, "", "{ not an envelope");
        await pipeline.Publisher.PublishAllAsync([good[0], corrupt, tooOld, good[1]]);
        await WaitForTrackAsync(track, attempts: 1);
        foreach (var errorQueue in new[] { "event-ingestor_error", "aggregator_error" })
        {
            var reasons = await pipeline.Broker.TakeDeadLettersAsync(errorQueue, count: 3);
            Assert.Contains(reasons, r => r.Contains("System.Text.Json"));
            Assert.Contains(reasons, r => r.Contains("scoreBasisPoints"));
            Assert.Contains(reasons, r => r.Contains("older than the retention window"));
        }

        var stored = await Eventually.Until(
            () => pipeline.Database.ScalarAsync<long>("SELECT count(*) FROM answer_events WHERE track_id = $1", track),
            count => count >= 2, TimeSpan.FromSeconds(30), "the two good answer events");
        Assert.Equal(2, stored);
        var stats = Assert.Single(await pipeline.GetListAsync<TrackStats>("/api/stats/tracks"), t => t.TrackId == track);
        Assert.Equal((1, 2, 2), (stats.AttemptsTotal, stats.AnswersTotal, stats.CorrectTotal));
    }

    [Fact]
    public async Task Events_arriving_out_of_order_land_in_the_daily_bucket_of_the_day_they_were_created()
    {
        var track = Guid.NewGuid();
        var question = Guid.NewGuid();
        var today = DateTimeOffset.UtcNow;
        var yesterday = SampleEvents.Attempt(track, [(question, true)], durationSec: 10, createdAt: today.AddDays(-1));
        var todays = SampleEvents.Attempt(track, [(question, false)], durationSec: 30, createdAt: today);

        await pipeline.Publisher.PublishAllAsync([.. todays, .. yesterday]);
        await WaitForTrackAsync(track, attempts: 2);

        Assert.Equal(
            $"{DateOnly.FromDateTime(today.AddDays(-1).UtcDateTime):yyyy-MM-dd}:1/1/10 {DateOnly.FromDateTime(today.UtcDateTime):yyyy-MM-dd}:1/0/30",
            await pipeline.Database.ScalarAsync<string>("""
                SELECT string_agg(format('%s:%s/%s/%s', day, attempts_total, correct_total, duration_sum_sec), ' ' ORDER BY day)
                FROM question_daily_aggregates WHERE question_id = $1
                """, question));
        Assert.Equal("2/2/1", await pipeline.Database.ScalarAsync<string>("""
            SELECT format('%s/%s/%s', sum(attempts_total), sum(answers_total), sum(correct_total)) FROM track_daily_aggregates WHERE track_id = $1
            """, track));
    }

    private const string AnswerSubmittedExchange = "Telemetry.Contracts:AnswerSubmitted";

    private Task WaitForTrackAsync(Guid track, long attempts) =>
        Eventually.Until(
            async () => (await pipeline.GetListAsync<TrackStats>("/api/stats/tracks")).SingleOrDefault(t => t.TrackId == track)?.AttemptsTotal ?? 0,
            total => total >= attempts,
            TimeSpan.FromSeconds(60),
            $"track {track} to show {attempts} attempts");
}
