using System.ComponentModel.DataAnnotations;
using Telemetry.EventIngestor.AnswerEvents;
using Telemetry.EventProcessing;
using Telemetry.ServiceDefaults;

namespace Telemetry.EventIngestor;

public sealed class IngestorOptions
{
    /// <summary>Messages per batch (one bulk write each).</summary>
    [Range(1, 5000)] public int MessageLimit { get; set; } = 1000;

    /// <summary>How long a batch waits to fill; kept far below RabbitMQ's consumer timeout (30 min).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")] public TimeSpan TimeLimit { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Batches written at once by one instance.</summary>
    [Range(1, 16)] public int ConcurrencyLimit { get; set; } = 2;
}

public static class IngestorExtensions
{
    public static WebApplicationBuilder AddEventIngestor(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<IngestorOptions>();
        builder.AddTelemetryDatabase("event-ingestor");
        builder.AddEventProcessing("answer_events", AuditActions.AnswerEventsLogged, cleansAuditLog: true);
        builder.Services.AddSingleton<AnswerEventWriter>();
        builder.AddTelemetryBus(x => x.AddConsumer<AnswerBatchConsumer>(typeof(AnswerBatchConsumerDefinition)));
        return builder;
    }
}
