using MassTransit;
using Microsoft.Extensions.Options;
using Telemetry.Contracts;
using Telemetry.EventProcessing;
using Telemetry.ServiceDefaults;

namespace Telemetry.Aggregator.Rollups;

/// <summary>
/// Applies a batch of AnswerSubmitted to the aggregates in one transaction; acked only after the commit. A redelivered
/// batch finds its ids in the ledger and changes nothing. Events too old for the ledger are refused, never guessed at.
/// </summary>
public sealed class RollupBatchConsumer(RollupWriter writer, DailyPartitions ledgerPartitions, CoalescedAudit audit, ILogger<RollupBatchConsumer> logger)
    : IConsumer<Batch<AnswerSubmitted>>
{
    public async Task Consume(ConsumeContext<Batch<AnswerSubmitted>> context)
    {
        var applicable = new List<AnswerSubmitted>(context.Message.Length);
        var rejected = new List<(ConsumeContext<AnswerSubmitted> Message, string Reason)>();
        foreach (var message in context.Message)
        {
            var reason = AnswerSubmittedRules.Violation(message.Message)
                         ?? await ledgerPartitions.RefusalAsync(message.Message.CreatedAt, context.CancellationToken);
            if (reason is null)
                applicable.Add(message.Message);
            else
                rejected.Add((message, reason));
        }

        var applied = await writer.ApplyAsync(applicable, context.CancellationToken);

        foreach (var (message, reason) in rejected)
        {
            logger.LogWarning("Dead-lettering event {EventId}: {Reason}", message.Message.EventId, reason);
            await DeadLetters.SendAsync(message, reason);
        }

        audit.Record(new FlushTotals(
            Flushes: 1,
            Received: context.Message.Length,
            Stored: applied.Count,
            Duplicates: applicable.Count - applied.Count,
            Rejected: rejected.Count,
            OldestEvent: applied.Count == 0 ? null : applied.Min(e => e.CreatedAt),
            NewestEvent: applied.Count == 0 ? null : applied.Max(e => e.CreatedAt)));
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
        BrokerTopology.ConfigureQueue(endpointConfigurator);
        endpointConfigurator.UseMessageRetry(r => r.Exponential(5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(500)));
        // One batch at a time per instance: flushes of one instance never contend with each other.
        consumerConfigurator.Options<BatchOptions>(o => o
            .SetMessageLimit(_options.MessageLimit)
            .SetTimeLimit(_options.FlushInterval)
            .SetConcurrencyLimit(1));
        endpointConfigurator.PrefetchCount = _options.PrefetchCount;
        endpointConfigurator.ConcurrentMessageLimit = _options.PrefetchCount;
    }
}
