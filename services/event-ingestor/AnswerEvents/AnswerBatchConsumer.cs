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
public sealed class AnswerBatchConsumer(AnswerEventWriter writer, AnswerBatches batches) : IConsumer<Batch<AnswerSubmitted>>
{
    public async Task Consume(ConsumeContext<Batch<AnswerSubmitted>> context)
    {
        var (storable, refused) = await batches.TriageAsync(context);
        var refusedByDatabase = new List<Refusal>();
        var stored = await WriteAsync(storable, refusedByDatabase, context.CancellationToken);
        storable.RemoveAll(e => refusedByDatabase.Exists(r => r.Message == e));
        refused.AddRange(refusedByDatabase);
        await batches.CompleteAsync(context, refused, storable.Count, stored, storable.ConvertAll(e => e.Message));
    }

    /// <summary>
    /// One bulk write. When PostgreSQL refuses the data itself (a data exception or an integrity violation, such as an
    /// event whose partition retention dropped a moment ago) rather than failing transiently, the batch is halved
    /// until the refused events are isolated; they are added to <paramref name="refused"/> with PostgreSQL's reason and
    /// the rest is still stored. Transient failures propagate, so the whole batch is retried.
    /// </summary>
    private async Task<int> WriteAsync(
        List<ConsumeContext<AnswerSubmitted>> events, List<Refusal> refused, CancellationToken cancellationToken)
    {
        try
        {
            return await writer.WriteAsync(events.ConvertAll(e => e.Message), cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState[..2] is "22" or "23")
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
