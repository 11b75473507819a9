using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
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
        var storable = new List<ConsumeContext<AnswerSubmitted>>(context.Message.Length);
        var rejected = new List<(ConsumeContext<AnswerSubmitted> Message, string Reason)>();
        foreach (var message in context.Message)
        {
            var reason = AnswerSubmittedRules.Violation(message.Message)
                         ?? await partitions.RefusalAsync(message.Message.CreatedAt, context.CancellationToken);
            if (reason is null)
                storable.Add(message);
            else
                rejected.Add((message, reason));
        }

        var refused = new List<(ConsumeContext<AnswerSubmitted> Message, string Reason)>();
        var stored = await WriteAsync(storable, refused, context.CancellationToken);
        storable.RemoveAll(e => refused.Exists(r => r.Message == e));
        rejected.AddRange(refused);

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
            OldestEvent: storable.Count == 0 ? null : storable.Min(e => e.Message.CreatedAt),
            NewestEvent: storable.Count == 0 ? null : storable.Max(e => e.Message.CreatedAt)));
    }

    /// <summary>
    /// One bulk write. When PostgreSQL refuses the data itself (a data exception or an integrity violation, such as an
    /// event whose partition retention dropped a moment ago) rather than failing transiently, the batch is halved
    /// until the refused events are isolated; they are added to <paramref name="refused"/> with PostgreSQL's reason and
    /// the rest is still stored. Transient failures propagate, so the whole batch is retried.
    /// </summary>
    private async Task<int> WriteAsync(
        List<ConsumeContext<AnswerSubmitted>> events, List<(ConsumeContext<AnswerSubmitted> Message, string Reason)> refused, CancellationToken cancellationToken)
    {
        try
        {
            return await writer.WriteAsync(events.ConvertAll(e => e.Message), cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState[..2] is "22" or "23")
        {
            if (events.Count == 1)
            {
                refused.Add((events[0], $"PostgreSQL refused it: {ex.MessageText} ({ex.SqlState})"));
                return 0;
            }
            var half = events.Count / 2;
            return await WriteAsync(events[..half], refused, cancellationToken) + await WriteAsync(events[half..], refused, cancellationToken);
        }
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
        endpointConfigurator.PrefetchCount = _options.PrefetchCount;
        endpointConfigurator.ConcurrentMessageLimit = _options.PrefetchCount;
    }
}
