using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Telemetry.ServiceDefaults;

namespace Telemetry.EventProcessing;

public static class EventProcessingExtensions
{
    /// <summary>
    /// What both consumers of the AnswerSubmitted stream share: the daily-partitioned table they write (created ahead,
    /// expired by retention), the coalesced audit of their flushes, and the retention schedule.
    /// Sections: PartitionOptions, CoalescedAuditOptions, RetentionOptions (+ ANSWER_EVENTS_RETENTION_DAYS).
    /// </summary>
    public static WebApplicationBuilder AddEventProcessing(this WebApplicationBuilder builder, string partitionedTable, string flushAuditAction, bool cleansAuditLog)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddValidatedOptions<PartitionOptions>();
        builder.Services.AddValidatedOptions<CoalescedAuditOptions>();
        var retention = RetentionOptions.Bind(builder.Configuration, nameof(RetentionOptions));
        builder.Services.AddSingleton(retention);

        builder.Services.AddSingleton(sp => new DailyPartitions(sp.GetRequiredService<NpgsqlDataSource>(), partitionedTable, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddHostedService<PartitionMaintenance>();

        builder.Services.AddSingleton<AuditTrail>();
        builder.Services.AddSingleton(sp => new CoalescedAudit(
            flushAuditAction,
            sp.GetRequiredService<AuditTrail>(),
            sp.GetRequiredService<IOptions<CoalescedAuditOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<CoalescedAudit>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CoalescedAudit>());
        builder.Services.AddSingleton<ConsumerMetrics>();
        builder.Services.AddSingleton<AnswerBatches>();

        builder.Services.AddSingleton(sp => new PartitionRetention(
            sp.GetRequiredService<NpgsqlDataSource>(), partitionedTable, cleansAuditLog, retention,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<AuditTrail>(), sp.GetRequiredService<ILogger<PartitionRetention>>()));
        builder.Services.AddHostedService<RetentionSchedule>();
        return builder;
    }

    /// <summary>
    /// Operators' on-demand commands, run instead of the service: `retention` runs the retention job once and prints
    /// its report as JSON. Returns false when the arguments name no command.
    /// </summary>
    public static async Task<bool> TryRunCommandAsync(this WebApplication app, string[] args)
    {
        if (args is not ["retention", ..])
            return false;
        var report = await app.Services.GetRequiredService<PartitionRetention>().RunAsync(CancellationToken.None);
        Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerOptions.Web) { WriteIndented = true }));
        return true;
    }
}
