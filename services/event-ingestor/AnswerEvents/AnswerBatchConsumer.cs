using MassTransit;
using Microsoft.Extensions.Options;
using Telemetry.Contracts;
using Telemetry.EventProcessing;
using Telemetry.ServiceDefaults;
using Telemetry.ServiceDefaults.Failures;

namespace Telemetry.EventIngestor.AnswerEvents;

/// <summary>
/// Writes a batch of AnswerSubmitted into answer_events in one idempotent bulk statement; the batch is acked only after
/// the commit, so a crash means redelivery, and redelivery means ON CONFLICT DO NOTHING. While PostgreSQL is away the
/// batch is held and retried (<see cref="OutageRetry"/>): an outage never dead-letters an event.
/// </summary>
public sealed class AnswerBatchConsumer(AnswerEventWriter writer, AnswerBatches batches, OutageRetry outage) : IConsumer<Batch<AnswerSubmitted>>
{
    public async Task Consume(ConsumeContext<Batch<AnswerSubmitted>> context)
    {
        var (storable, refused, stored) = await outage.ExecuteAsync(async token =>
        {
            var (storable, refused) = await batches.TriageAsync(context, token);
            var refusedByDatabase = new List<Refusal>();
            var stored = await WriteAsync(storable, refusedByDatabase, token);
            storable.RemoveAll(e => refusedByDatabase.Exists(r => r.Message == e));
            refused.AddRange(refusedByDatabase);
            return (storable, refused, stored);
        }, context.CancellationToken);
        await batches.CompleteAsync(context, refused, storable.Count, stored, storable.ConvertAll(e => e.Message));
    }

    /// <summary>
    /// One bulk write. When PostgreSQL refuses the data itself (a data exception or an integrity violation, such as an
    /// event whose partition retention dropped a moment ago) rather than failing transiently, the batch is halved
    /// until the refused events are isolated; they are added to <paramref name="refused"/> with PostgreSQL's reason and
    /// the rest is still stored. An outage propagates, so the whole batch is retried.
    /// </summary>
    private async Task<int> WriteAsync(
        List<ConsumeContext<AnswerSubmitted>> events, List<Refusal> refused, CancellationToken cancellationToken)
    {
        try
        {
            return await writer.WriteAsync(events.ConvertAll(e => e.Message), cancellationToken);
        }
        catch (Npgsql.PostgresException ex) when (FailureKind.IsDataRefusal(ex))
        {
            if (events.Count == 1)
            {
                refused.Add(new Refusal(events[0], $"PostgreSQL refused it: {ex.MessageText} ({ex.SqlState})"));
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
        AnswerBatchEndpoint.Configure(
            endpointConfigurator, consumerConfigurator, _options.MessageLimit, _options.TimeLimit, _options.ConcurrencyLimit, _options.PrefetchCount);
    }
}
