using MassTransit;
using Microsoft.Extensions.Options;
using Telemetry.Contracts;
using Telemetry.EventProcessing;
using Telemetry.ServiceDefaults;
using Telemetry.ServiceDefaults.Failures;

namespace Telemetry.Aggregator.Rollups;

/// <summary>
/// Applies a batch of AnswerSubmitted to the aggregates in one transaction; acked only after the commit. A redelivered
/// batch finds its ids in the ledger and changes nothing. Events too old for the ledger are refused, never guessed at.
/// While PostgreSQL is away the batch is held and retried (<see cref="OutageRetry"/>): an outage never dead-letters an event.
/// </summary>
public sealed class RollupBatchConsumer(RollupWriter writer, AnswerBatches batches, OutageRetry outage) : IConsumer<Batch<AnswerSubmitted>>
{
    public async Task Consume(ConsumeContext<Batch<AnswerSubmitted>> context)
    {
        var (applicable, refused, applied) = await outage.ExecuteAsync(async token =>
        {
            var (applicable, refused) = await batches.TriageAsync(context, token);
            return (applicable, refused, await writer.ApplyAsync(applicable.ConvertAll(e => e.Message), token));
        }, context.CancellationToken);
        await batches.CompleteAsync(context, refused, applicable.Count, applied.Count, applied);
    }
}

public sealed class RollupBatchConsumerDefinition : ConsumerDefinition<RollupBatchConsumer>
{
    private readonly AggregatorOptions _options;

    public RollupBatchConsumerDefinition(IOptions<AggregatorOptions> options)
    {
        _options = options.Value;
        EndpointName = BrokerTopology.AggregatorQueue;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<RollupBatchConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // One batch at a time per instance: flushes of one instance never contend with each other.
        AnswerBatchEndpoint.Configure(
            endpointConfigurator, consumerConfigurator, _options.MessageLimit, _options.FlushInterval, concurrencyLimit: 1, _options.PrefetchCount);
    }
}
