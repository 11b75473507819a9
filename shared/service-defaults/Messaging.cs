using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Telemetry.ServiceDefaults;

public static class Messaging
{
    public const string ConnectionStringName = "RabbitMq";

    /// <summary>
    /// MassTransit on RabbitMQ from ConnectionStrings:RabbitMq (an amqp:// URI with credentials and virtual host).
    /// The host starts without waiting for the broker, so an API keeps serving while RabbitMQ is away;
    /// MassTransit's own health check (tagged ready) reports the connection.
    /// </summary>
    public static WebApplicationBuilder AddTelemetryBus(
        this WebApplicationBuilder builder,
        Action<IBusRegistrationConfigurator> register,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator>? configure = null)
    {
        var broker = RabbitMqAddress.Parse(builder.Configuration.RequireConnectionString(ConnectionStringName));
        builder.Services.AddMassTransit(x =>
        {
            // MassTransit would otherwise report usage to its vendor over the network.
            x.DisableUsageTelemetry();
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
        return builder;
    }
}

public sealed record RabbitMqAddress(string Host, ushort Port, string VirtualHost, string Username, string Password)
{
    public static RabbitMqAddress Parse(string uri)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("amqp" or "rabbitmq"))
            throw new InvalidOperationException(
                $"ConnectionStrings:{Messaging.ConnectionStringName} must be an amqp://user:password@host:port/vhost URI.");
        var credentials = parsed.UserInfo.Split(':', 2);
        var vhost = Uri.UnescapeDataString(parsed.AbsolutePath.TrimStart('/'));
        return new RabbitMqAddress(
            parsed.Host,
            (ushort)(parsed.IsDefaultPort || parsed.Port < 0 ? 5672 : parsed.Port),
            vhost.Length == 0 ? "/" : vhost,
            Uri.UnescapeDataString(credentials[0]),
            credentials.Length > 1 ? Uri.UnescapeDataString(credentials[1]) : "");
    }

    public void Apply(IRabbitMqBusFactoryConfigurator cfg) =>
        cfg.Host(Host, Port, VirtualHost, h =>
        {
            h.Username(Username);
            h.Password(Password);
            h.PublisherConfirmation = true;
            h.Heartbeat(TimeSpan.FromSeconds(10));
        });
}

/// <summary>Queue names and queue settings shared by the consumers and the topology deployer, so their declarations agree.</summary>
public static class BrokerTopology
{
    public const string IngestorQueue = "event-ingestor";
    public const string AggregatorQueue = "aggregator";

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
