using System.Net;
using Telemetry.Database;
using Telemetry.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Telemetry.IntegrationTests;

/// <summary>
/// The consumers start while PostgreSQL is already down, so they never had a success to measure a failure rate
/// against (the case where MassTransit's kill switch never trips, MassTransit #3307): they must still wait, not
/// dead-letter.
/// </summary>
[Collection(nameof(DatabaseOutageCollection))]
public sealed class ColdStartOutageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private TestBroker _broker = null!;
    private TestPublisher _publisher = null!;
    private readonly List<IAsyncDisposable> _services = [];

    [Fact]
    public async Task Consumers_that_start_during_a_database_outage_wait_for_it_and_then_store_and_count_every_event_once()
    {
        var track = Guid.NewGuid();
        var events = Enumerable.Range(0, 50)
            .SelectMany(i => SampleEvents.Attempt(track, [(Guid.NewGuid(), i % 2 == 0), (Guid.NewGuid(), true)]))
            .ToList();
        var bad = SampleEvents.Attempt(track, [(Guid.NewGuid(), true)])[0] with { ScoreBasisPoints = -1 };

        await using (var outage = new DatabaseOutage())
        {
            await outage.KillAsync();
            await _publisher.PublishAllAsync([.. events, bad]);
            var ingestor = Start(new ServiceHost<EventIngestor.Program>(Settings(DatabaseRoles.EventIngestor)));
            var aggregator = Start(new ServiceHost<Aggregator.Program>(Settings(DatabaseRoles.Aggregator)));

            // Long past the old retry window (about 17 s): still waiting, nothing dead-lettered.
            await Task.Delay(TimeSpan.FromSeconds(25));
            foreach (var client in new[] { ingestor.CreateClient(), aggregator.CreateClient() })
                Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);
            foreach (var queue in new[] { "event-ingestor", "aggregator" })
                Assert.Empty(await _broker.PeekDeadLettersAsync(queue + "_error"));
            output.WriteLine("consumers started during the outage waited 25 s without dead-lettering");
            await outage.StartAsync();
        }

        var stored = await Eventually.Until(
            () => _database.ScalarAsync<long>("SELECT count(*) FROM answer_events WHERE track_id = $1", track),
            count => count >= events.Count, TimeSpan.FromSeconds(60), $"{events.Count} answer events");
        var answers = await Eventually.Until(
            () => _database.ScalarAsync<long>("SELECT coalesce(sum(answers_total), 0) FROM track_aggregates WHERE track_id = $1", track),
            count => count >= events.Count, TimeSpan.FromSeconds(60), $"{events.Count} aggregated answers");
        Assert.Equal((events.Count, events.Count), (stored, answers));
        Assert.Equal(50, await _database.ScalarAsync<long>("SELECT attempts_total FROM track_aggregates WHERE track_id = $1", track));
        foreach (var queue in new[] { "event-ingestor_error", "aggregator_error" })
            Assert.Contains("scoreBasisPoints", Assert.Single(await _broker.TakeDeadLettersAsync(queue, count: 1)));
    }

    private Dictionary<string, string?> Settings(string role) => new()
    {
        ["ConnectionStrings:Telemetry"] = _database.ConnectionStringFor(role),
        ["ConnectionStrings:RabbitMq"] = _broker.AmqpUri,
        ["IngestorOptions:TimeLimit"] = "00:00:00.100",
        ["AggregatorOptions:FlushInterval"] = "00:00:00.200",
    };

    private ServiceHost<T> Start<T>(ServiceHost<T> host) where T : class
    {
        _services.Add(host);
        _ = host.Server;
        return host;
    }

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(TestServers.OutagePostgresAdmin);
        _broker = await TestBroker.CreateAsync();
        _publisher = await TestPublisher.StartAsync(_broker);
    }

    public async Task DisposeAsync()
    {
        await _publisher.DisposeAsync();
        foreach (var service in _services)
            await service.DisposeAsync();
        await _broker.DisposeAsync();
        await _database.DisposeAsync();
    }
}
