using MassTransit;
using Microsoft.Extensions.Logging;
using Telemetry.Contracts;
using Telemetry.ServiceDefaults;
using Telemetry.ServiceDefaults.Failures;

namespace Telemetry.EventProcessing;

/// <summary>An event of a batch that is not applied, and why; it goes to the endpoint's error queue.</summary>
public sealed record Refusal(ConsumeContext<AnswerSubmitted> Message, string Reason);

/// <summary>
/// The steps both consumers take around their own write: refuse what the shared rules or this service's retention
/// window refuse, then dead-letter the refusals with their reasons (the rest of the batch is never held back) and
/// record the flush in the coalesced audit.
/// </summary>
public sealed class AnswerBatches(DailyPartitions partitions, CoalescedAudit audit, OutageRetry outage, ConsumerMetrics metrics, ILogger<AnswerBatches> logger)
{
    public async Task<(List<ConsumeContext<AnswerSubmitted>> Accepted, List<Refusal> Refused)> TriageAsync(
        ConsumeContext<Batch<AnswerSubmitted>> batch, CancellationToken cancellationToken)
    {
        var accepted = new List<ConsumeContext<AnswerSubmitted>>(batch.Message.Length);
        var refused = new List<Refusal>();
        foreach (var message in batch.Message)
        {
            var reason = AnswerSubmittedRules.Violation(message.Message)
                         ?? await partitions.RefusalAsync(message.Message.CreatedAt, cancellationToken);
            if (reason is null)
                accepted.Add(message);
            else
                refused.Add(new Refusal(message, reason));
        }
        return (accepted, refused);
    }

    /// <param name="written">Events the write took (new or already there).</param>
    /// <param name="stored">Of those, the ones not there before; the rest count as duplicates.</param>
    /// <param name="window">The events whose createdAt range the audit row reports (and whose lag is measured).</param>
    public async Task CompleteAsync(
        ConsumeContext<Batch<AnswerSubmitted>> batch, IReadOnlyCollection<Refusal> refused, int written, int stored, IReadOnlyCollection<AnswerSubmitted> window)
    {
        foreach (var (message, reason) in refused)
        {
            logger.LogWarning("Dead-lettering event {EventId}: {Reason}", message.Message.EventId, reason);
            // The batch is committed: a broker hiccup here must not fault it (and dead-letter the good events with it).
            await outage.ExecuteAsync(async _ => await DeadLetters.SendAsync(message, reason), batch.CancellationToken);
            metrics.DeadLettered();
        }
        metrics.BatchCommitted(stored, written - stored, refused.Count, window);

        audit.Record(new FlushTotals(
            Flushes: 1,
            Received: batch.Message.Length,
            Stored: stored,
            Duplicates: written - stored,
            Rejected: refused.Count,
            OldestEvent: window.Count == 0 ? null : window.Min(e => e.CreatedAt),
            NewestEvent: window.Count == 0 ? null : window.Max(e => e.CreatedAt)));
    }
}

/// <summary>
/// The receive endpoint both batch consumers use. Outages never reach it (the consumers wait them out); what does is a
/// bug, or a message MassTransit cannot deserialize: a few quick retries, then the error queue with the exception.
/// </summary>
public static class AnswerBatchEndpoint
{
    public static void Configure<TConsumer>(
        IReceiveEndpointConfigurator endpoint, IConsumerConfigurator<TConsumer> consumer,
        int messageLimit, TimeSpan timeLimit, int concurrencyLimit, int prefetchCount) where TConsumer : class
    {
        BrokerTopology.ConfigureQueue(endpoint);
        endpoint.UseMessageRetry(r => r.Exponential(5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(500)));
        consumer.Options<BatchOptions>(o => o
            .SetMessageLimit(messageLimit)
            .SetTimeLimit(timeLimit)
            .SetConcurrencyLimit(concurrencyLimit));
        // Every prefetched message waits in its own pipeline for its batch, so all of them must be let in at once.
        endpoint.PrefetchCount = prefetchCount;
        endpoint.ConcurrentMessageLimit = prefetchCount;
    }
}
