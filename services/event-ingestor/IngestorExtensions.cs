using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Npgsql;
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

    public PartitionOptions Partitions { get; set; } = new();
    public CoalescedAuditOptions Audit { get; set; } = new();
}

public static class IngestorExtensions
{
    public static WebApplicationBuilder AddEventIngestor(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<IngestorOptions>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddTelemetryDatabase("event-ingestor");

        builder.Services.AddSingleton(sp => new DailyPartitions(sp.GetRequiredService<NpgsqlDataSource>(), "answer_events", sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<IngestorOptions>>().Value.Partitions);
        builder.Services.AddHostedService<PartitionMaintenance>();

        builder.Services.AddSingleton<AuditTrail>();
        builder.Services.AddSingleton(sp => new CoalescedAudit(
            AuditActions.AnswerEventsLogged,
            sp.GetRequiredService<AuditTrail>(),
            sp.GetRequiredService<IOptions<IngestorOptions>>().Value.Audit,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<CoalescedAudit>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CoalescedAudit>());

        builder.Services.AddSingleton<AnswerEventWriter>();
        builder.AddTelemetryBus(x => x.AddConsumer<AnswerBatchConsumer>(typeof(AnswerBatchConsumerDefinition)));
        return builder;
    }
}
