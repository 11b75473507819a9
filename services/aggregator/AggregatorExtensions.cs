using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Npgsql;
using Telemetry.Aggregator.Rollups;
using Telemetry.EventProcessing;
using Telemetry.ServiceDefaults;

namespace Telemetry.Aggregator;

public sealed class AggregatorOptions
{
    /// <summary>Most events applied in one flush (one transaction).</summary>
    [Range(1, 10000)] public int MessageLimit { get; set; } = 2000;

    /// <summary>The flush timer: a batch is applied when full or when this much time has passed since its first event.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")] public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(2);

    public PartitionOptions Partitions { get; set; } = new();
    public CoalescedAuditOptions Audit { get; set; } = new();
}

public static class AggregatorExtensions
{
    public static WebApplicationBuilder AddAggregator(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<AggregatorOptions>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddTelemetryDatabase("aggregator");

        builder.Services.AddSingleton(sp => new DailyPartitions(sp.GetRequiredService<NpgsqlDataSource>(), "processed_events", sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<AggregatorOptions>>().Value.Partitions);
        builder.Services.AddHostedService<PartitionMaintenance>();

        builder.Services.AddSingleton<AuditTrail>();
        builder.Services.AddSingleton(sp => new CoalescedAudit(
            AuditActions.RollupCompleted,
            sp.GetRequiredService<AuditTrail>(),
            sp.GetRequiredService<IOptions<AggregatorOptions>>().Value.Audit,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<CoalescedAudit>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CoalescedAudit>());

        builder.Services.AddSingleton<RollupWriter>();
        builder.AddTelemetryBus(x => x.AddConsumer<RollupBatchConsumer>(typeof(RollupBatchConsumerDefinition)));
        return builder;
    }
}
