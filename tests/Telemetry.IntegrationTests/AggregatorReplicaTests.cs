using Telemetry.Database;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.IntegrationTests;

/// <summary>Three aggregator instances on the same queue, fed duplicates and shuffled events through RabbitMQ.</summary>
public sealed class AggregatorReplicaTests : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private TestBroker _broker = null!;
    private readonly List<ServiceHost<Aggregator.Program>> _replicas = [];

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _broker = await TestBroker.CreateAsync();
        for (var i = 0; i < 3; i++)
        {
            var replica = new ServiceHost<Aggregator.Program>(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Telemetry"] = _database.ConnectionStringFor(DatabaseRoles.Aggregator),
                ["ConnectionStrings:RabbitMq"] = _broker.AmqpUri,
                ["AggregatorOptions:FlushInterval"] = "00:00:00.100",
                ["AggregatorOptions:MessageLimit"] = "200",
                ["SERVICE_INSTANCE"] = $"replica-{i}",
            });
            _ = replica.Server;
            _replicas.Add(replica);
        }
        foreach (var replica in _replicas)
            await replica.WaitReadyAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var replica in _replicas)
            await replica.DisposeAsync();
        await _broker.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Three_instances_consuming_one_queue_with_duplicates_end_with_exact_totals()
    {
        var random = new Random(42);
        // Within the two days the aggregator's ledger has partitions for on a fresh install; one instant per attempt.
        var now = DateTimeOffset.UtcNow;
        var events = AggregatorExactnessTests.RandomEvents(random, attempts: 1500)
            .GroupBy(e => e.AttemptId)
            .SelectMany(attempt => attempt.Select(e => e with { CreatedAt = now.AddHours(-(attempt.Key.GetHashCode() & 0xFFFF) % 40) }))
            .ToList();
        var deliveries = events.Concat(events.Where(_ => random.Next(3) == 0)).OrderBy(_ => random.Next()).ToList();

        await using (var publisher = await TestPublisher.StartAsync(_broker))
            await publisher.PublishAllAsync(deliveries);
        await Eventually.Until(
            () => _database.ScalarAsync<long>("SELECT coalesce(sum(events_applied), 0) FROM rollup_state"),
            applied => applied >= events.Count, TimeSpan.FromSeconds(120), $"{events.Count} events applied");
        await Eventually.Until(() => _broker.QueueDepthAsync("aggregator"), d => d == (0, 0), TimeSpan.FromSeconds(60), "the aggregator queue to drain");

        Snapshot.AssertEquals(Snapshot.Recompute(events), await Snapshot.ReadAsync(_database));
        Assert.Equal(events.Count, await _database.ScalarAsync<long>("SELECT sum(events_applied) FROM rollup_state"));
        Assert.True(await _database.ScalarAsync<long>("SELECT count(*) FROM rollup_state WHERE events_applied > 0") >= 2,
            "the work was not shared between the replicas");
    }
}
