using Microsoft.Extensions.DependencyInjection;
using Telemetry.EventProcessing;
using Telemetry.StatsApi.Stats;
using Telemetry.Testing;
using Telemetry.Testing.Bench;
using Xunit;
using Xunit.Abstractions;

namespace Telemetry.IntegrationTests;

/// <summary>`setup dead-letters` against the running pipeline: real dead letters, and a replay the consumers deduplicate.</summary>
public sealed class DeadLetterCommandPipelineTests(PipelineFixture pipeline, ITestOutputHelper output) : IClassFixture<PipelineFixture>
{
    private static readonly string[] ErrorQueues = ["event-ingestor_error", "aggregator_error"];

    [Fact]
    public async Task Replaying_dead_letters_of_events_already_stored_counts_them_once_and_an_event_still_refused_returns_to_the_error_queue()
    {
        var track = Guid.NewGuid();
        var good = SampleEvents.Attempt(track, [(Guid.NewGuid(), true), (Guid.NewGuid(), false)]);
        var tooOld = SampleEvents.Attempt(track, [(Guid.NewGuid(), true)], createdAt: DateTimeOffset.UtcNow.AddDays(-400))[0];
        await using var queues = await RawDeadLetters.ConnectAsync(pipeline.Broker);

        // Real dead letters first: MassTransit faults what is not an envelope (declaring the error queues), and both
        // consumers refuse the event that is older than their retention window.
        await pipeline.Broker.PublishRawAsync(RawBroker.AnswerSubmittedExchange, "", "{ not an envelope");
        await pipeline.Publisher.PublishAllAsync([.. good, tooOld]);
        foreach (var queue in ErrorQueues)
            await Eventually.Until(() => queues.CountAsync(queue), n => n == 2, TimeSpan.FromSeconds(60), $"two dead letters in {queue}");
        var before = await TrackAsync(track, answers: 2);
        var duplicatesBefore = await DuplicatesAsync();

        // Then the stored events once more, as dead letters: a replay of events the consumers have already counted.
        foreach (var queue in ErrorQueues)
            foreach (var message in good)
                await queues.PutAsync(queue, message, "copy of an event already stored", DateTimeOffset.UtcNow);
        var list = await DeadLettersAsync("list");
        output.WriteLine(list.Stdout);
        var replays = new List<SetupResult>();
        foreach (var queue in ErrorQueues)
            replays.Add(await DeadLettersAsync("replay", queue, "--reason", "already stored"));

        Assert.Equal(0, list.ExitCode);
        Assert.Matches(@"(?m)^event-ingestor_error +4 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\(all\)$", list.Stdout);
        Assert.Matches(@"(?m)^aggregator_error +1 +\d{4}-.* System\.Text\.Json\.JsonReaderException: ", list.Stdout);
        Assert.Matches(@"(?m)^aggregator_error +1 +\d{4}-.* rejected: createdAt \{time\} is outside the processed_events partitions that exist \(\{date\} \.\. \{date\}\); older than the retention window$", list.Stdout);
        Assert.Matches(@"(?m)^event-ingestor_error +2 +\d{4}-.* rejected: copy of an event already stored$", list.Stdout);
        foreach (var (replay, queue) in replays.Zip(ErrorQueues))
            Assert.Equal((0, $"replayed 2 dead letters (reason containing 'already stored') from {queue} to {queue[..^6]}; 2 of 4 left in {queue}"),
                (replay.ExitCode, replay.Stdout.Trim()));
        await Eventually.Until(DuplicatesAsync, d => d.Ingestor >= duplicatesBefore.Ingestor + 2 && d.Aggregator >= duplicatesBefore.Aggregator + 2,
            TimeSpan.FromSeconds(60), "both consumers to take the replayed events as duplicates");
        Assert.Equal(2, await pipeline.Database.ScalarAsync<long>("SELECT count(*) FROM answer_events WHERE track_id = $1", track));
        Assert.Equal(before, await TrackAsync(track, answers: 2));
        foreach (var queue in ErrorQueues)
            Assert.Equal(2u, await queues.CountAsync(queue));

        // Replayed before its cause is fixed, a dead letter is refused again with its reason: back in the error queue, not lost.
        var early = await DeadLettersAsync("replay", "event-ingestor_error", "--reason", "retention window");
        Assert.StartsWith("replayed 1 dead letters", early.Stdout);
        await Eventually.Until(() => queues.CountAsync("event-ingestor_error"), n => n == 2, TimeSpan.FromSeconds(60), "the event refused again");
        Assert.Equal(2, await pipeline.Database.ScalarAsync<long>("SELECT count(*) FROM answer_events WHERE track_id = $1", track));
    }

    private Task<SetupResult> DeadLettersAsync(params string[] args) =>
        SetupCommand.RunAsync(new Dictionary<string, string> { ["ConnectionStrings__RabbitMq"] = pipeline.Broker.AmqpUri }, ["dead-letters", .. args]);

    /// <summary>The track's totals once it counts that many answers (without the time of its last update).</summary>
    private async Task<TrackStats> TrackAsync(Guid track, int answers)
    {
        var stats = await Eventually.Until(
            async () => (await pipeline.GetListAsync<TrackStats>("/api/stats/tracks")).SingleOrDefault(t => t.TrackId == track),
            stats => stats?.AnswersTotal == answers, TimeSpan.FromSeconds(60), $"track {track} to count {answers} answers");
        return stats! with { LastCalculatedAt = default };
    }

    /// <summary>Events each consumer took as already applied, from its audit (flushed now rather than once a minute).</summary>
    private async Task<(long Ingestor, long Aggregator)> DuplicatesAsync()
    {
        await pipeline.Ingestor.Services.GetRequiredService<CoalescedAudit>().FlushAsync(CancellationToken.None);
        await pipeline.Aggregator.Services.GetRequiredService<CoalescedAudit>().FlushAsync(CancellationToken.None);
        const string sum = "SELECT coalesce(sum((details->>'duplicates')::bigint), 0) FROM audit_logs WHERE action = $1";
        return (await pipeline.Database.ScalarAsync<long>(sum, AuditActions.AnswerEventsLogged),
                await pipeline.Database.ScalarAsync<long>(sum, AuditActions.RollupCompleted));
    }
}
