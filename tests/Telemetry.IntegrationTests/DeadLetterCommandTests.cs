using Telemetry.Contracts;
using Telemetry.ServiceDefaults;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.IntegrationTests;

/// <summary>`setup dead-letters …` as operators run it (the real executable) against a private virtual host per test.</summary>
public sealed class DeadLetterCommandTests : IAsyncLifetime
{
    private const string IngestorErrors = BrokerTopology.IngestorQueue + "_error";
    private const string AggregatorErrors = BrokerTopology.AggregatorQueue + "_error";
    private const string OutsidePartitions = "createdAt {0:O} is outside the answer_events partitions that exist (2026-09-24 .. 2026-11-25); older than the retention window";

    private TestBroker _broker = null!;
    private RawDeadLetters _queues = null!;

    public async Task InitializeAsync()
    {
        _broker = await TestBroker.CreateAsync();
        _queues = await RawDeadLetters.ConnectAsync(_broker);
        await _queues.DeclareAsync(IngestorErrors);
        await _queues.DeclareAsync(AggregatorErrors);
    }

    public async Task DisposeAsync()
    {
        await _queues.DisposeAsync();
        await _broker.DisposeAsync();
    }

    [Fact]
    public async Task List_counts_each_error_queue_by_reason_with_the_first_and_last_time_seen_and_consumes_nothing()
    {
        var at = new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
        var events = Events(6);
        await _queues.PutAsync(IngestorErrors, events[0], string.Format(OutsidePartitions, at.AddDays(-400)), at);
        await _queues.PutAsync(IngestorErrors, events[1], "'{' is an invalid start of a value.", at.AddMinutes(5), exceptionType: "System.Text.Json.JsonException");
        await _queues.PutAsync(IngestorErrors, events[2], string.Format(OutsidePartitions, at.AddDays(-500)), at.AddHours(2));
        await _queues.PutAsync(IngestorErrors, events[3], string.Format(OutsidePartitions, at.AddDays(-401)), at.AddHours(1));
        await _queues.PutAsync(AggregatorErrors, events[4], "scoreBasisPoints is outside 0..10000", at.AddDays(1));
        await _queues.PutAsync(AggregatorErrors, events[5], "scoreBasisPoints is outside 0..10000", at.AddDays(2));

        var all = await DeadLettersAsync("list");
        var one = await DeadLettersAsync("list", AggregatorErrors);

        Assert.Equal(0, all.ExitCode);
        Assert.Equal(
        [
            "QUEUE COUNT FIRST SEEN (UTC) LAST SEEN (UTC) REASON",
            "event-ingestor_error 4 2026-11-20 08:00:00 2026-11-20 10:00:00 (all)",
            "event-ingestor_error 3 2026-11-20 08:00:00 2026-11-20 10:00:00 rejected: createdAt {time} is outside the answer_events partitions that exist ({date} .. {date}); older than the retention window",
            "event-ingestor_error 1 2026-11-20 08:05:00 2026-11-20 08:05:00 System.Text.Json.JsonException: '{' is an invalid start of a value.",
            "aggregator_error 2 2026-11-21 08:00:00 2026-11-22 08:00:00 (all)",
            "aggregator_error 2 2026-11-21 08:00:00 2026-11-22 08:00:00 rejected: scoreBasisPoints is outside 0..10000",
        ], all.Lines.Select(Squeezed));
        Assert.Equal(0, one.ExitCode);
        Assert.Equal(3, one.Lines.Length);
        Assert.All(one.Lines.Skip(1), line => Assert.StartsWith(AggregatorErrors, line));
        // Nothing was consumed, and the order is the one they arrived in.
        Assert.Equal(events.Take(4).Select(e => e.EventId), (await _queues.TakeAllAsync(IngestorErrors)).Select(m => m.EventId));
        Assert.Equal(events.Skip(4).Select(e => e.EventId), (await _queues.TakeAllAsync(AggregatorErrors)).Select(m => m.EventId));
    }

    [Fact]
    public async Task A_consumers_error_queue_not_declared_yet_has_no_dead_letters_and_an_unknown_queue_is_an_error()
    {
        await using var fresh = await TestBroker.CreateAsync();

        var all = await SetupCommand.RunAsync(Environment(fresh), "dead-letters", "list");
        var replay = await SetupCommand.RunAsync(Environment(fresh), "dead-letters", "replay", IngestorErrors);
        var purge = await SetupCommand.RunAsync(Environment(fresh), "dead-letters", "purge", AggregatorErrors, "--older-than", "1d");
        var unknown = await SetupCommand.RunAsync(Environment(fresh), "dead-letters", "list", "event-ingester_error");

        Assert.Equal(0, all.ExitCode);
        Assert.Contains("event-ingestor_error 0 - - (all)", all.Lines.Select(Squeezed));
        Assert.Contains("aggregator_error 0 - - (all)", all.Lines.Select(Squeezed));
        Assert.Equal((0, 0), (replay.ExitCode, purge.ExitCode));
        Assert.StartsWith($"no dead letters in {IngestorErrors}: the queue does not exist yet", replay.Stdout);
        Assert.StartsWith($"no dead letters in {AggregatorErrors}: the queue does not exist yet", purge.Stdout);
        Assert.Equal((1, ""), (unknown.ExitCode, unknown.Stdout));
        Assert.Contains("there is no queue 'event-ingester_error'", unknown.Stderr);
    }

    [Fact]
    public async Task Replay_moves_dead_letters_matching_the_reason_back_to_their_queue_with_their_message_ids_up_to_the_limit()
    {
        var events = Events(5);
        var now = DateTimeOffset.UtcNow;
        string[] reasons = [string.Format(OutsidePartitions, now.AddDays(-400)), "scoreBasisPoints is outside 0..10000"];
        foreach (var (message, index) in events.Select((e, i) => (e, i)))
            await _queues.PutAsync(IngestorErrors, message, reasons[index % 2], now);

        var limited = await DeadLettersAsync("replay", IngestorErrors, "--reason", "PARTITIONS", "--limit", "2");

        Assert.Equal(0, limited.ExitCode);
        Assert.Equal(
            $"replayed 2 dead letters (reason containing 'PARTITIONS', limit 2) from {IngestorErrors} to {BrokerTopology.IngestorQueue}; 3 of 5 left in {IngestorErrors}",
            Assert.Single(limited.Lines));
        var replayed = await _queues.TakeAllAsync(BrokerTopology.IngestorQueue);
        Assert.Equal([events[0].EventId, events[2].EventId], replayed.Select(m => m.EventId));
        Assert.All(replayed, m => Assert.Equal((m.EventId.ToString(), m.EventId), (m.MessageId, m.EnvelopeMessageId)));
        Assert.All(replayed, m => Assert.DoesNotContain(m.HeaderNames, name => name.StartsWith("MT-Fault-") || name == "MT-Reason"));
        // Not matching, or past the limit: still dead letters, in their order.
        Assert.Equal([events[1].EventId, events[3].EventId, events[4].EventId], (await _queues.TakeAllAsync(IngestorErrors)).Select(m => m.EventId));
        Assert.Equal(0u, await _queues.CountAsync(AggregatorErrors));
    }

    [Fact]
    public async Task Replay_without_a_filter_moves_every_dead_letter_and_never_to_another_consumers_queue()
    {
        var events = Events(3);
        foreach (var message in events)
            await _queues.PutAsync(AggregatorErrors, message, "scoreBasisPoints is outside 0..10000", DateTimeOffset.UtcNow);

        var result = await DeadLettersAsync("replay", AggregatorErrors);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal($"replayed 3 dead letters from {AggregatorErrors} to {BrokerTopology.AggregatorQueue}; 0 of 3 left in {AggregatorErrors}", result.Stdout.Trim());
        Assert.Equal(events.Select(e => e.EventId), (await _queues.TakeAllAsync(BrokerTopology.AggregatorQueue)).Select(m => m.EventId));
        Assert.Equal((0u, 0u), (await _queues.CountAsync(AggregatorErrors), await _queues.CountAsync(BrokerTopology.IngestorQueue)));
    }

    [Fact]
    public async Task Purge_prints_the_count_first_and_deletes_only_the_dead_letters_that_failed_before_the_age()
    {
        var now = DateTimeOffset.UtcNow;
        var events = Events(5);
        await _queues.PutAsync(AggregatorErrors, events[0], "old", now.AddDays(-10));
        await _queues.PutAsync(AggregatorErrors, events[1], "recent", now.AddHours(-1));
        await _queues.PutAsync(AggregatorErrors, events[2], "old, by its AMQP timestamp", faultedAt: null, amqpTimestamp: now.AddDays(-8));
        await _queues.PutAsync(AggregatorErrors, events[3], "recent", now);
        await _queues.PutAsync(AggregatorErrors, events[4], "no time recorded: kept", faultedAt: null);

        var result = await DeadLettersAsync("purge", AggregatorErrors, "--older-than", "7d");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal([$"purging 2 of 5 dead letters older than 7d from {AggregatorErrors}", $"purged 2; 3 left in {AggregatorErrors}"], result.Lines);
        Assert.Equal([events[1].EventId, events[3].EventId, events[4].EventId], (await _queues.TakeAllAsync(AggregatorErrors)).Select(m => m.EventId));
    }

    [Theory]
    [InlineData("dead-letters")]
    [InlineData("dead-letters", "show")]
    [InlineData("dead-letters", "replay")]
    [InlineData("dead-letters", "replay", "aggregator_error", "--limit", "0")]
    [InlineData("dead-letters", "replay", "aggregator_error", "--reason")]
    [InlineData("dead-letters", "replay", "aggregator_error", "--everything")]
    [InlineData("dead-letters", "purge", "aggregator_error")]
    [InlineData("dead-letters", "purge", "aggregator_error", "--older-than", "7 days")]
    [InlineData("dead-letters", "purge", "aggregator", "--older-than", "7d")]
    [InlineData("dead-letters", "replay", "event-ingestor")]
    public async Task A_wrong_command_or_a_queue_that_is_not_an_error_queue_prints_the_usage_and_changes_nothing(params string[] args)
    {
        await _queues.PutAsync(AggregatorErrors, Events(1)[0], "old", DateTimeOffset.UtcNow.AddDays(-30));

        var result = await SetupCommand.RunAsync(Environment(_broker), args);

        Assert.Equal((2, ""), (result.ExitCode, result.Stdout));
        Assert.Contains("setup dead-letters replay QUEUE [--reason TEXT] [--limit N]", result.Stderr);
        Assert.Equal(1u, await _queues.CountAsync(AggregatorErrors));
    }

    private Task<SetupResult> DeadLettersAsync(params string[] args) => SetupCommand.RunAsync(Environment(_broker), ["dead-letters", .. args]);

    private static Dictionary<string, string> Environment(TestBroker broker) => new() { ["ConnectionStrings__RabbitMq"] = broker.AmqpUri };

    private static IReadOnlyList<AnswerSubmitted> Events(int count) =>
        SampleEvents.Attempt(Guid.NewGuid(), Enumerable.Range(0, count).Select(_ => (Guid.NewGuid(), true)).ToList());

    /// <summary>A table row with its column padding collapsed to single spaces.</summary>
    private static string Squeezed(string line) => string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
}
