using MassTransit;
using Microsoft.Extensions.Options;
using Telemetry.Contracts;
using Telemetry.EventProcessing;
using Telemetry.ServiceDefaults;

namespace Telemetry.EventIngestor.AnswerEvents;

/// <summary>
/// Writes a batch of AnswerSubmitted into answer_events in one idempotent bulk statement; the batch is acked only after
/// the commit, so a crash means redelivery, and redelivery means ON CONFLICT DO NOTHING.
/// </summary>
public sealed class AnswerBatchConsumer(AnswerEventWriter writer, DailyPartitions partitions, CoalescedAudit audit, ILogger<AnswerBatchConsumer> logger)
    : IConsumer<Batch<AnswerSubmitted>>
{
    public async Task Consume(ConsumeContext<Batch<AnswerSubmitted>> context)
    {
        var storable = new List<AnswerSubmitted>(context.Message.Length);
        var rejected = new List<(ConsumeContext<AnswerSubmitted> Message, string Reason)>();
        foreach (var message in context.Message)
        {
            var reason = AnswerSubmittedRules.Violation(message.Message)
                         ?? await partitions.RefusalAsync(message.Message.CreatedAt, context.CancellationToken);
            if (reason is null)
                storable.Add(message.Message);
            else
                rejected.Add((message, reason));
        }

        var stored = await writer.WriteAsync(storable, context.CancellationToken);

        foreach (var (message, reason) in rejected)
        {
            logger.LogWarning("Dead-lettering event {EventId}: {Reason}", message.Message.EventId, reason);
            await DeadLetters.SendAsync(message, reason);
        }

        audit.Record(new FlushTotals(
            Flushes: 1,
            Received: context.Message.Length,
            Stored: stored,
            Duplicates: storable.Count - stored,
            Rejected: rejected.Count,
            OldestEvent: storable.Count == 0 ? null : storable.Min(e => e.CreatedAt),
            NewestEvent: storable.Count == 0 ? null : storable.Max(e => e.CreatedAt)));
    }
}

public sealed class AnswerBatchConsumerDefinition : ConsumerDefinition<AnswerBatchConsumer>
{
    private readonly IngestorOptions _options;

    public AnswerBatchConsumerDefinition(IOptions<IngestorOptions> options)
    {
        _options = options.Value;
        EndpointName = BrokerTopology.IngestorQueue;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<AnswerBatchConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        BrokerTopology.ConfigureQueue(endpointConfigurator);
        // Transient database failures: retry the whole batch a few times, then fault it to the error queue.
        endpointConfigurator.UseMessageRetry(r => r.Exponential(5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(500)));
        consumerConfigurator.Options<BatchOptions>(o => o
            .SetMessageLimit(_options.MessageLimit)
            .SetTimeLimit(_options.TimeLimit)
            .SetConcurrencyLimit(_options.ConcurrencyLimit));
        // Enough unacked messages in flight for every concurrent batch to fill.
        endpointConfigurator.PrefetchCount = _options.MessageLimit * _options.ConcurrencyLimit;
        endpointConfigurator.ConcurrentMessageLimit = _options.MessageLimit * _options.ConcurrencyLimit;
    }
}
