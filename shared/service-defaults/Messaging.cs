using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Telemetry.ServiceDefaults;

public static class Messaging
{
    public const string ConnectionStringName = "RabbitMq";

    /// <summary>
    /// MassTransit on RabbitMQ from ConnectionStrings:RabbitMq (an amqp:// URI with credentials and virtual host).
    /// The host starts without waiting for the broker, so an API keeps serving while RabbitMQ is away.
    /// Readiness: "rabbitmq" (AspNetCore.HealthChecks.Rabbitmq over <see cref="BrokerProbe"/>'s connection, with the
    /// service's own credentials) reports an unreachable broker as <paramref name="readiness"/> says; a consumer also
    /// has "receive-endpoints" (<see cref="ReceiveEndpointsHealthCheck"/>).
    /// </summary>
    public static WebApplicationBuilder AddTelemetryBus(
        this WebApplicationBuilder builder,
        Action<IBusRegistrationConfigurator> register,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator>? configure = null,
        BrokerReadiness readiness = BrokerReadiness.Required)
    {
        var broker = RabbitMqAddress.Parse(builder.Configuration.RequireConnectionString(ConnectionStringName));
        builder.Services.AddSingleton(new BrokerProbe(broker));
        var failed = readiness == BrokerReadiness.Required ? HealthStatus.Unhealthy : HealthStatus.Degraded;
        var health = builder.Services.AddHealthChecks().AddRabbitMQ(
            provider => provider.GetRequiredService<BrokerProbe>().OpenConnectionAsync(CancellationToken.None),
            name: "rabbitmq", failureStatus: failed, tags: [HealthTags.Ready], timeout: TimeSpan.FromSeconds(5));
        if (readiness == BrokerReadiness.Required)
            health.AddCheck<ReceiveEndpointsHealthCheck>("receive-endpoints", tags: [HealthTags.Ready]);
        builder.Services.AddMassTransit(x =>
        {
            // MassTransit would otherwise report usage to its vendor over the network.
            x.DisableUsageTelemetry();
            // Its own check says Degraded (HTTP 200) while a consumer's queue is unreachable, and Healthy for a
            // publisher that has no receive endpoint running: the "rabbitmq" check decides readiness instead.
            x.ConfigureHealthCheckOptions(o => o.Tags.Add("masstransit"));
            register(x);
            x.UsingRabbitMq((context, cfg) =>
            {
                broker.Apply(cfg);
                BrokerTopology.ConfigureBus(cfg);
                configure?.Invoke(context, cfg);
                cfg.ConfigureEndpoints(context);
            });
        });
        builder.Services.AddOptions<MassTransitHostOptions>().Configure(o =>
        {
            o.WaitUntilStarted = false;
            o.StopTimeout = TimeSpan.FromSeconds(20);
        });
        if (readiness == BrokerReadiness.Required)
        {
            builder.Services.AddValidatedOptions<BusWatchdogOptions>();
            builder.Services.TryAddSingleton(TimeProvider.System);
            builder.Services.AddHostedService<BusWatchdog>();
        }
        return builder;
    }

    /// <summary>Counts a consumer's queue and its error queue for the telemetry.queue.messages gauge (<see cref="QueueDepthMetrics"/>).</summary>
    public static WebApplicationBuilder AddQueueDepthMetrics(this WebApplicationBuilder builder, string queue)
    {
        string[] queues = [queue, BrokerTopology.ErrorQueue(queue)];
        builder.Services.AddValidatedOptions<QueueDepthMetricsOptions>();
        builder.Services.AddHostedService(provider => ActivatorUtilities.CreateInstance<QueueDepthMetrics>(
            provider, (IReadOnlyList<string>)queues, provider.GetRequiredService<IOptions<QueueDepthMetricsOptions>>().Value.Interval));
        return builder;
    }
}

/// <summary>What a service's readiness makes of an unreachable broker.</summary>
public enum BrokerReadiness
{
    /// <summary>A consumer: not ready (503) unless RabbitMQ is reachable and its receive endpoints are running.</summary>
    Required,

    /// <summary>
    /// A publisher that keeps its messages in its own outbox while RabbitMQ is away: it can still do its job, so it
    /// stays ready (200) and reports the broker as Degraded in the body.
    /// </summary>
    Buffered,
}

/// <summary>
/// A consumer is ready only while MassTransit's receive endpoints are running. MassTransit's own bus check (tag
/// "masstransit", outside readiness) cannot say that: it answers Degraded, so HTTP 200, while a queue is unreachable.
/// </summary>
public sealed class ReceiveEndpointsHealthCheck(IBusControl bus) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var endpoints = bus.CheckHealth();
        return Task.FromResult(endpoints.Status == BusHealthStatus.Healthy
            ? HealthCheckResult.Healthy(endpoints.Description)
            : HealthCheckResult.Unhealthy($"MassTransit's receive endpoints are not running: {endpoints.Description}"));
    }
}

/// <summary>
/// Whether RabbitMQ accepts an AMQP connection with the service's own credentials and virtual host, apart from MassTransit's
/// own connection: one connection kept open for the readiness probes, the bus watchdog and the queue depth gauges,
/// reopened when it drops.
/// </summary>
public sealed class BrokerProbe(RabbitMqAddress broker) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    // No HostName or Port: every connection is opened on broker.Endpoints (one node, or each node of a cluster).
    private readonly ConnectionFactory _factory = new()
    {
        VirtualHost = broker.VirtualHost,
        UserName = broker.Username,
        Password = broker.Password,
        RequestedConnectionTimeout = TimeSpan.FromSeconds(3),
        RequestedHeartbeat = TimeSpan.FromSeconds(10),
        AutomaticRecoveryEnabled = false,
        ClientProvidedName = "health probe",
    };
    private IConnection? _connection;

    public string Describe() => broker.Describe();

    /// <summary>Returns why no connection could be opened, or null when one is open.</summary>
    public async Task<Exception?> ConnectAsync(CancellationToken cancellationToken)
    {
        try
        {
            await OpenConnectionAsync(cancellationToken);
            return null;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return ex is RabbitMQ.Client.Exceptions.BrokerUnreachableException { InnerException: { } inner } ? inner : ex;
        }
    }

    /// <summary>The open probe connection, reopened if it dropped; throws when RabbitMQ refuses or cannot be reached.</summary>
    public async Task<IConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_connection is { IsOpen: true })
                return _connection;
            if (_connection is not null)
                await _connection.DisposeAsync();
            _connection = null;
            return _connection = await _factory.CreateConnectionAsync(broker.Endpoints, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
            await _connection.DisposeAsync();
        _gate.Dispose();
    }
}

/// <summary>
/// Where RabbitMQ is: ConnectionStrings:RabbitMq holds one amqp:// URI, or, for a cluster, several separated by commas
/// (same credentials and virtual host), all of which MassTransit and the probe connection try.
/// </summary>
public sealed record RabbitMqAddress(string Host, ushort Port, string VirtualHost, string Username, string Password)
{
    /// <summary>Every cluster node as host:port, the first included; empty for a single node.</summary>
    public IReadOnlyList<string> ClusterNodes { get; init; } = [];

    public IEnumerable<AmqpTcpEndpoint> Endpoints =>
        ClusterNodes.Count == 0
            ? [new AmqpTcpEndpoint(Host, Port)]
            : ClusterNodes.Select(node => AmqpTcpEndpoint.Parse(node));

    public static RabbitMqAddress Parse(string uris)
    {
        var nodes = uris.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(ParseOne).ToList();
        if (nodes.Count == 0)
            throw new InvalidOperationException(
                $"ConnectionStrings:{Messaging.ConnectionStringName} must be an amqp://user:password@host:port/vhost URI.");
        var first = nodes[0];
        if (nodes.Count == 1)
            return first;
        if (nodes.Any(n => (n.VirtualHost, n.Username, n.Password) != (first.VirtualHost, first.Username, first.Password)))
            throw new InvalidOperationException(
                $"ConnectionStrings:{Messaging.ConnectionStringName} lists cluster nodes with different credentials or virtual hosts; they must agree.");
        return first with { ClusterNodes = nodes.Select(n => $"{n.Host}:{n.Port}").ToList() };
    }

    public string Describe() => ClusterNodes.Count == 0 ? $"{Host}:{Port}/{VirtualHost}" : $"[{string.Join(", ", ClusterNodes)}]/{VirtualHost}";

    public void Apply(IRabbitMqBusFactoryConfigurator cfg) =>
        cfg.Host(Host, Port, VirtualHost, h =>
        {
            h.Username(Username);
            h.Password(Password);
            h.PublisherConfirmation = true;
            h.Heartbeat(TimeSpan.FromSeconds(10));
            if (ClusterNodes.Count > 0)
                h.UseCluster(c =>
                {
                    foreach (var node in ClusterNodes)
                        c.Node(node);
                });
        });

    private static RabbitMqAddress ParseOne(string uri)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("amqp" or "rabbitmq"))
            throw new InvalidOperationException(
                $"ConnectionStrings:{Messaging.ConnectionStringName} must be an amqp://user:password@host:port/vhost URI (or several, comma-separated, for a cluster).");
        var credentials = parsed.UserInfo.Split(':', 2);
        var vhost = Uri.UnescapeDataString(parsed.AbsolutePath.TrimStart('/'));
        return new RabbitMqAddress(
            parsed.Host,
            (ushort)(parsed.IsDefaultPort || parsed.Port < 0 ? 5672 : parsed.Port),
            vhost.Length == 0 ? "/" : vhost,
            Uri.UnescapeDataString(credentials[0]),
            credentials.Length > 1 ? Uri.UnescapeDataString(credentials[1]) : "");
    }
}

/// <summary>Queue names and queue settings shared by the consumers and the topology deployer, so their declarations agree.</summary>
public static class BrokerTopology
{
    public const string IngestorQueue = "event-ingestor";
    public const string AggregatorQueue = "aggregator";

    /// <summary>Where MassTransit and DeadLetters put what a queue's consumer refused.</summary>
    public static string ErrorQueue(string queue) => queue + "_error";

    /// <summary>
    /// Error queues are classic queues, as DeadLetters' sends to <c>queue:&lt;endpoint&gt;_error</c> declare them.
    /// MassTransit would otherwise declare them like their endpoint's quorum queue, and RabbitMQ refuses to redeclare a
    /// queue as another type: whichever came second failed for good, so either a rejected event could not be
    /// dead-lettered (its batch retried, then faulted whole) or a message MassTransit faulted was redelivered forever.
    /// </summary>
    public static void ConfigureBus(IRabbitMqBusFactoryConfigurator bus) =>
        bus.SendTopology.ConfigureErrorSettings = settings => settings.SetQueueArgument("x-queue-type", null);

    /// <summary>Quorum queues: replicated, durable, and faster than classic queues with confirms on this machine.</summary>
    public static void ConfigureQueue(IReceiveEndpointConfigurator endpoint)
    {
        if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
            rabbit.SetQuorumQueue();
    }
}
