using System.ComponentModel.DataAnnotations;
using Npgsql;
using Telemetry.Contracts;
using Telemetry.Database;
using Telemetry.EventIngestor;
using Telemetry.EventIngestor.AnswerEvents;
using Telemetry.ServiceDefaults;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.IntegrationTests;

/// <summary>Two ingestor replicas on a private database and virtual host, and nothing else consuming.</summary>
public sealed class IngestorFixture : IAsyncLifetime
{
    public TestDatabase Database { get; private set; } = null!;
    public TestBroker Broker { get; private set; } = null!;
    public TestPublisher Publisher { get; private set; } = null!;
    private ServiceHost<EventIngestor.Program>[] _replicas = [];

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync();
        Broker = await TestBroker.CreateAsync();
        _replicas = new[] { "replica-1", "replica-2" }.Select(instance => new ServiceHost<EventIngestor.Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Telemetry"] = Database.ConnectionStringFor(DatabaseRoles.EventIngestor),
            ["ConnectionStrings:RabbitMq"] = Broker.AmqpUri,
            ["SERVICE_INSTANCE"] = instance,
            ["IngestorOptions:TimeLimit"] = "00:00:00.100",
            ["CoalescedAuditOptions:Interval"] = "00:00:00.200",
        })).ToArray();
        foreach (var replica in _replicas)
            await replica.WaitReadyAsync();
        Publisher = await TestPublisher.StartAsync(Broker);
    }

    public async Task DisposeAsync()
    {
        await Publisher.DisposeAsync();
        foreach (var replica in _replicas)
            await replica.DisposeAsync();
        await Broker.DisposeAsync();
        await Database.DisposeAsync();
    }
}

public sealed class IngestorTests(IngestorFixture ingestor) : IClassFixture<IngestorFixture>
{
    private const string ErrorQueue = BrokerTopology.IngestorQueue + "_error";

    [Fact]
    public async Task Two_replicas_consuming_a_stream_delivered_twice_store_and_count_each_event_once()
    {
        var track = Guid.NewGuid();
        var events = Enumerable.Range(0, 150)
            .SelectMany(_ => SampleEvents.Attempt(track, [(Guid.NewGuid(), true), (Guid.NewGuid(), false)]))
            .ToList();

        await Task.WhenAll(ingestor.Publisher.PublishAllAsync(events), ingestor.Publisher.PublishAllAsync(events.AsEnumerable().Reverse()));

        await Eventually.Until(() => StoredAsync(track), n => n >= events.Count, TimeSpan.FromSeconds(60), "every event stored");
        await Eventually.Until(() => ingestor.Broker.QueueDepthAsync(BrokerTopology.IngestorQueue), d => d == (0, 0), TimeSpan.FromSeconds(30), "the queue to drain");
        Assert.Equal(events.Count, await StoredAsync(track));
        // The coalesced audit of both replicas adds up to exactly the rows they wrote: no event was counted as stored twice.
        var rows = await ingestor.Database.ScalarAsync<long>("SELECT count(*) FROM answer_events");
        await Eventually.Until(
            () => ingestor.Database.ScalarAsync<long>(
                "SELECT coalesce(sum((details->>'stored')::bigint), 0) FROM audit_logs WHERE action = 'answer_events_logged'"),
            stored => stored == rows,
            TimeSpan.FromSeconds(10),
            $"the audit's stored count to match the {rows} rows");
    }

    [Fact]
    public async Task Unstorable_messages_go_to_the_error_queue_with_their_reason_and_the_rest_of_the_stream_is_stored()
    {
        var track = Guid.NewGuid();
        var good = SampleEvents.Attempt(track, [(Guid.NewGuid(), true), (Guid.NewGuid(), true), (Guid.NewGuid(), false)]);
        var nul = SampleEvents.Attempt(track, [(Guid.NewGuid(), true)])[0] with { SelectedAnswer = "right\0" };
        var future = SampleEvents.Attempt(track, [(Guid.NewGuid(), true)], createdAt: DateTimeOffset.UtcNow.AddDays(90))[0];

        // A message MassTransit itself faults comes first, so MassTransit declares the error queue before our consumer sends to it.
        await ingestor.Broker.PublishRawAsync("", BrokerTopology.IngestorQueue, "{ this is not a MassTransit envelope");
        var faulted = Assert.Single(await DeadLettersAsync(count: 1));
        Assert.Contains("System.Text.Json", faulted);

        await ingestor.Publisher.PublishAllAsync([good[0], nul, future, good[1], good[2]]);
        var rejected = await DeadLettersAsync(count: 2);
        Assert.Contains(rejected, r => r.Contains("selectedAnswer") && r.Contains("NUL character"));
        Assert.Contains(rejected, r => r.Contains("too far in the future"));

        await Eventually.Until(() => StoredAsync(track), n => n >= 3, TimeSpan.FromSeconds(60), "the good events stored");
        Assert.Equal(3, await StoredAsync(track));
        await Eventually.Until(() => ingestor.Broker.QueueDepthAsync(BrokerTopology.IngestorQueue), d => d == (0, 0), TimeSpan.FromSeconds(30), "the queue to drain");
    }

    [Fact]
    public async Task An_event_whose_partition_was_dropped_after_it_was_checked_is_dead_lettered_and_the_rest_of_its_batch_is_stored()
    {
        // The replicas cached the partition range at startup; dropping the oldest day behind their back is what
        // retention in another replica does. PostgreSQL then refuses the event, and only that event.
        var oldest = await ingestor.Database.ScalarAsync<DateTime>("SELECT first_day::timestamp FROM partition_days('answer_events')");
        var oldestDay = DateOnly.FromDateTime(oldest);
        await ingestor.Database.ExecuteAsync($"DROP TABLE answer_events_p{oldestDay:yyyyMMdd}");
        try
        {
            var track = Guid.NewGuid();
            var good = SampleEvents.Attempt(track, Enumerable.Range(0, 6).Select(_ => (Guid.NewGuid(), true)).ToList());
            var orphan = SampleEvents.Attempt(track, [(Guid.NewGuid(), true)], createdAt: new DateTimeOffset(oldest.AddHours(12), TimeSpan.Zero))[0];

            await ingestor.Publisher.PublishAllAsync([.. good.Take(3), orphan, .. good.Skip(3)]);

            await Eventually.Until(() => StoredAsync(track), n => n >= good.Count, TimeSpan.FromSeconds(60), "the good events stored");
            var reason = Assert.Single(await DeadLettersAsync(count: 1));
            Assert.Contains("PostgreSQL refused it", reason);
            Assert.Contains("no partition", reason);
            Assert.Equal(good.Count, await StoredAsync(track));
        }
        finally
        {
            await ingestor.Database.ScalarAsync<int>("SELECT ensure_daily_partitions('answer_events', $1, $1)", oldestDay);
        }
    }

    [Fact]
    public async Task The_writer_stores_an_event_once_when_its_batch_repeats_it_or_is_written_again()
    {
        await using var dataSource = NpgsqlDataSource.Create(ingestor.Database.ConnectionStringFor(DatabaseRoles.EventIngestor));
        var writer = new AnswerEventWriter(dataSource);
        var track = Guid.NewGuid();
        var events = SampleEvents.Attempt(track, [(Guid.NewGuid(), true), (Guid.NewGuid(), false)]);

        try
        {
            Assert.Equal(2, await writer.WriteAsync([events[0], events[1], events[0]], CancellationToken.None));
            Assert.Equal(0, await writer.WriteAsync(events, CancellationToken.None));
            Assert.Equal(2, await StoredAsync(track));
        }
        finally
        {
            // Rows written past the consumers would throw off the other tests' comparison with the audit.
            await ingestor.Database.ExecuteAsync($"DELETE FROM answer_events WHERE track_id = '{track}'");
        }
    }

    [Fact]
    public void Prefetch_leaves_room_for_one_more_batch_than_are_written_at_once_and_never_overflows_RabbitMQs_limit()
    {
        var defaults = new IngestorOptions();
        Assert.Equal(defaults.MessageLimit * (defaults.ConcurrencyLimit + 1), defaults.PrefetchCount);
        Assert.True(defaults.TimeLimit <= TimeSpan.FromMinutes(1), "a batch must be acked far below RabbitMQ's 30-minute consumer timeout");
        Assert.True(IsValid(defaults));
        Assert.False(IsValid(new IngestorOptions { MessageLimit = 5000, ConcurrencyLimit = 16 }));
        Assert.False(IsValid(new IngestorOptions { TimeLimit = TimeSpan.FromMinutes(5) }));
    }

    private static bool IsValid(IngestorOptions options) =>
        Validator.TryValidateObject(options, new ValidationContext(options), [], validateAllProperties: true);

    private Task<long> StoredAsync(Guid track) =>
        ingestor.Database.ScalarAsync<long>("SELECT count(*) FROM answer_events WHERE track_id = $1", track);

    private Task<List<string>> DeadLettersAsync(int count) => ingestor.Broker.TakeDeadLettersAsync(ErrorQueue, count);
}
