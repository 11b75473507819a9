using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Telemetry.Database;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.IntegrationTests;

/// <summary>A private database and virtual host with all four services running against them.</summary>
public class PipelineFixture : IAsyncLifetime
{
    private readonly string? _databaseServer;
    private readonly Func<Task<TestBroker>> _broker;

    public PipelineFixture()
        : this(null)
    {
    }

    /// <param name="databaseServer">The PostgreSQL server's admin connection string; the run's shared server when null.</param>
    /// <param name="broker">Where the virtual host comes from; the run's shared broker when null.</param>
    protected PipelineFixture(string? databaseServer, Func<Task<TestBroker>>? broker = null)
    {
        _databaseServer = databaseServer;
        _broker = broker ?? (() => TestBroker.CreateAsync());
    }

    public const string DashboardKey = "test-dashboard-key-0123456789";
    public const string AdminKey = "test-admin-key-0123456789abcdef";

    public TestDatabase Database { get; private set; } = null!;
    public TestBroker Broker { get; private set; } = null!;
    public TestPublisher Publisher { get; private set; } = null!;
    public ServiceHost<AttemptsApi.Program> Attempts { get; private set; } = null!;
    public ServiceHost<EventIngestor.Program> Ingestor { get; private set; } = null!;
    public ServiceHost<Aggregator.Program> Aggregator { get; private set; } = null!;
    public ServiceHost<StatsApi.Program> Stats { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync(_databaseServer);
        Broker = await _broker();
        Attempts = new ServiceHost<AttemptsApi.Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Telemetry"] = Database.ConnectionStringFor(DatabaseRoles.AttemptsApi),
            ["ConnectionStrings:RabbitMq"] = Broker.AmqpUri,
            ["Jwt:Issuer"] = TestTokens.Issuer,
            ["Jwt:Audience"] = TestTokens.Audience,
            ["Jwt:SigningKey"] = TestTokens.SigningKey,
            ["AdminAuth:Key"] = AdminKey,
            ["Relay:IdleInterval"] = "00:00:00.200",
            ["Relay:BacklogSampleInterval"] = "00:00:01",
        });
        Ingestor = new ServiceHost<EventIngestor.Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Telemetry"] = Database.ConnectionStringFor(DatabaseRoles.EventIngestor),
            ["ConnectionStrings:RabbitMq"] = Broker.AmqpUri,
            ["IngestorOptions:TimeLimit"] = "00:00:00.100",
            ["QueueDepthMetricsOptions:Interval"] = "00:00:01",
        });
        Aggregator = new ServiceHost<Aggregator.Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Telemetry"] = Database.ConnectionStringFor(DatabaseRoles.Aggregator),
            ["ConnectionStrings:RabbitMq"] = Broker.AmqpUri,
            ["AggregatorOptions:FlushInterval"] = "00:00:00.200",
            ["QueueDepthMetricsOptions:Interval"] = "00:00:01",
        });
        await Database.ScalarAsync<long>("INSERT INTO dashboard_api_keys (name, sha256) VALUES ('pipeline', $1) RETURNING key_id",
            SHA256.HashData(Encoding.UTF8.GetBytes(DashboardKey)));
        Stats = new ServiceHost<StatsApi.Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Telemetry"] = Database.ConnectionStringFor(DatabaseRoles.StatsApi),
            // A cached answer could hide a count that moves after a test stopped waiting (a double count, say).
            ["StatsApiOptions:ResponseCacheDuration"] = "00:00:00",
        });
        _ = Attempts.Server;
        _ = Ingestor.Server;
        _ = Aggregator.Server;
        _ = Stats.Server;
        await Attempts.WaitReadyAsync();
        await Ingestor.WaitReadyAsync();
        await Aggregator.WaitReadyAsync();
        Publisher = await TestPublisher.StartAsync(Broker);
    }

    public HttpClient StatsClient()
    {
        var client = Stats.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", DashboardKey);
        return client;
    }

    public HttpClient AdminClient()
    {
        var client = Attempts.CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);
        return client;
    }

    public HttpClient LearnerClient(string wallet)
    {
        var client = Attempts.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestTokens.For(wallet));
        return client;
    }

    public async Task<List<T>> GetListAsync<T>(string path) =>
        (await StatsClient().GetFromJsonAsync<List<T>>(path))!;

    /// <summary>Waits until both consumers have drained their queues.</summary>
    public Task WaitUntilDrainedAsync(TimeSpan? timeout = null) =>
        Eventually.Until(
            async () => (await Broker.QueueDepthAsync("event-ingestor"), await Broker.QueueDepthAsync("aggregator")),
            depths => depths.Item1 == (0, 0) && depths.Item2 == (0, 0),
            timeout ?? TimeSpan.FromSeconds(60),
            "the event-ingestor and aggregator queues to drain");

    public virtual async Task DisposeAsync()
    {
        await Publisher.DisposeAsync();
        await Attempts.DisposeAsync();
        await Ingestor.DisposeAsync();
        await Aggregator.DisposeAsync();
        await Stats.DisposeAsync();
        await Broker.DisposeAsync();
        await Database.DisposeAsync();
    }
}

/// <summary>The pipeline on the PostgreSQL server only the database outage tests use, so they can stop it.</summary>
public sealed class OutagePipelineFixture() : PipelineFixture(TestServers.OutagePostgresAdmin);

/// <summary>The pipeline on the 3-node test cluster, every service listing all three nodes.</summary>
public sealed class ClusterPipelineFixture() : PipelineFixture(null, TestBroker.CreateOnClusterAsync);
