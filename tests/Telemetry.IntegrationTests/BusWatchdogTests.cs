using System.Net;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Database;
using Telemetry.ServiceDefaults;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.IntegrationTests;

/// <summary>One ingestor with a quick bus watchdog on a private database and virtual host; RabbitMQ stays up all along.</summary>
public sealed class BusWatchdogFixture : IAsyncLifetime
{
    public static readonly TimeSpan UnhealthyFor = TimeSpan.FromSeconds(3);

    public TestDatabase Database { get; private set; } = null!;
    public TestBroker Broker { get; private set; } = null!;
    public TestPublisher Publisher { get; private set; } = null!;
    public ServiceHost<EventIngestor.Program> Ingestor { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync();
        Broker = await TestBroker.CreateAsync();
        Ingestor = new ServiceHost<EventIngestor.Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Telemetry"] = Database.ConnectionStringFor(DatabaseRoles.EventIngestor),
            ["ConnectionStrings:RabbitMq"] = Broker.AmqpUri,
            ["IngestorOptions:TimeLimit"] = "00:00:00.100",
            ["BusWatchdogOptions:UnhealthyFor"] = UnhealthyFor.ToString(),
            ["BusWatchdogOptions:CheckInterval"] = "00:00:00.250",
        });
        await Ingestor.WaitReadyAsync();
        Publisher = await TestPublisher.StartAsync(Broker);
    }

    public async Task DisposeAsync()
    {
        await Publisher.DisposeAsync();
        await Ingestor.DisposeAsync();
        await Broker.DisposeAsync();
        await Database.DisposeAsync();
    }
}

public sealed class BusWatchdogTests(BusWatchdogFixture fixture) : IClassFixture<BusWatchdogFixture>
{
    [Fact]
    public async Task A_receive_endpoint_that_stays_down_while_RabbitMQ_is_up_is_brought_back_by_restarting_the_bus()
    {
        using var client = fixture.Ingestor.CreateClient();
        var bus = fixture.Ingestor.Services.GetRequiredService<IBusControl>();
        var endpoint = Assert.Single(bus.CheckHealth().Endpoints, e => e.Key.EndsWith("/" + BrokerTopology.IngestorQueue, StringComparison.Ordinal)).Value.ReceiveEndpoint;

        // The state a broker crash can leave MassTransit 8.4 in: the endpoint does not consume and never recovers on its own.
        await endpoint.Stop();
        var stopped = System.Diagnostics.Stopwatch.StartNew();
        await Eventually.Until(() => ReadyStatusAsync(client), s => s == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(5), "the ingestor to be not ready");
        var track = Guid.NewGuid();
        var events = Enumerable.Range(0, 20).SelectMany(_ => SampleEvents.Attempt(track, [(Guid.NewGuid(), true)])).ToList();
        await fixture.Publisher.PublishAllAsync(events);

        await Eventually.Until(() => ReadyStatusAsync(client), s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "the watchdog to bring the ingestor back");
        Assert.True(stopped.Elapsed >= BusWatchdogFixture.UnhealthyFor - TimeSpan.FromSeconds(0.25), $"The bus came back after {stopped.Elapsed}, before the watchdog's period.");
        await Eventually.Until(
            () => fixture.Database.ScalarAsync<long>("SELECT count(*) FROM answer_events WHERE track_id = $1", track),
            n => n == events.Count,
            TimeSpan.FromSeconds(30),
            $"the {events.Count} events published while the endpoint was down to be stored");
    }

    private static async Task<HttpStatusCode> ReadyStatusAsync(HttpClient client) => (await client.GetAsync("/health/ready")).StatusCode;
}
