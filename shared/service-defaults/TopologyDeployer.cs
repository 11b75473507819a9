using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Contracts;

namespace Telemetry.ServiceDefaults;

/// <summary>
/// Declares the AnswerSubmitted exchange, both consumer queues and their bindings before anything publishes, so no
/// accepted event is routed to an exchange with no queue behind it. Uses MassTransit itself (DeployTopologyOnly) so
/// the declarations match the consumers' exactly.
/// </summary>
public static class TopologyDeployer
{
    public static readonly IReadOnlyList<string> ConsumerQueues = [BrokerTopology.IngestorQueue, BrokerTopology.AggregatorQueue];

    public static async Task DeployAsync(RabbitMqAddress broker, CancellationToken cancellationToken)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMassTransit(x =>
        {
            x.DisableUsageTelemetry();
            x.UsingRabbitMq((_, cfg) =>
            {
                broker.Apply(cfg);
                BrokerTopology.ConfigureBus(cfg);
                cfg.DeployTopologyOnly = true;
                foreach (var queue in ConsumerQueues)
                    cfg.ReceiveEndpoint(queue, e =>
                    {
                        BrokerTopology.ConfigureQueue(e);
                        e.ConfigureConsumeTopology = false;
                        e.Bind<AnswerSubmitted>();
                    });
            });
        });

        var provider = services.BuildServiceProvider();
        var bus = provider.GetRequiredService<IBusControl>();
        try
        {
            // MassTransit's stop ignores the token while a receive endpoint is still connecting (seen under load:
            // DeployAsync then never returned), so the wait itself is what honours it.
            await bus.DeployAsync(cancellationToken).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // A hung bus would hang its disposal too: leave it to the process, report the timeout.
            throw new TimeoutException($"Deploying the RabbitMQ topology to {broker.Host}:{broker.Port}/{broker.VirtualHost} did not finish in time.");
        }
        await provider.DisposeAsync();
    }
}
