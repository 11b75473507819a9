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

        await using var provider = services.BuildServiceProvider();
        var bus = provider.GetRequiredService<IBusControl>();
        await bus.DeployAsync(cancellationToken);
    }
}
