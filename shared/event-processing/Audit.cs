using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Telemetry.ServiceDefaults.Failures;
using NpgsqlTypes;
using Telemetry.ServiceDefaults;

namespace Telemetry.EventProcessing;

public static class AuditActions
{
    public const string AnswerEventsLogged = "answer_events_logged";
    public const string RollupCompleted = "rollup_completed";
    public const string RetentionCleanup = "retention_cleanup";
}

/// <summary>Writes audit_logs rows: action, service, instance, details (jsonb).</summary>
public sealed class AuditTrail(NpgsqlDataSource dataSource, ServiceIdentity identity)
{
    public async Task WriteAsync(string action, object details, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO audit_logs (action, service, instance, details) VALUES ($1, $2, $3, $4)");
        command.Parameters.AddWithValue(action);
        command.Parameters.AddWithValue(identity.Name);
        command.Parameters.AddWithValue(identity.Instance);
        command.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(details, JsonSerializerOptions.Web), NpgsqlDbType = NpgsqlDbType.Jsonb });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>What a batch flush did; summed per interval so audit volume stays bounded whatever the event rate.</summary>
public readonly record struct FlushTotals(long Flushes, long Received, long Stored, long Duplicates, long Rejected, DateTimeOffset? OldestEvent, DateTimeOffset? NewestEvent)
{
    public FlushTotals Add(FlushTotals other) => new(
        Flushes + other.Flushes,
        Received + other.Received,
        Stored + other.Stored,
        Duplicates + other.Duplicates,
        Rejected + other.Rejected,
        Min(OldestEvent, other.OldestEvent),
        Max(NewestEvent, other.NewestEvent));

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a < b ? a : b;
    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;
}

public sealed class CoalescedAuditOptions
{
    /// <summary>One audit row per interval per instance, at most.</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// Coalesces flush totals and writes one audit row per interval (and at shutdown) when anything happened.
/// At most one row per interval per instance, so the audit log's volume does not grow with the event rate.
/// </summary>
public sealed class CoalescedAudit(string action, AuditTrail trail, CoalescedAuditOptions options, TimeProvider clock, ILogger<CoalescedAudit> logger)
    : BackgroundService
{
    private readonly Lock _gate = new();
    private FlushTotals _pending;
    private DateTimeOffset _since = clock.GetUtcNow();

    public void Record(FlushTotals totals)
    {
        lock (_gate)
            _pending = _pending.Add(totals);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Interval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                await FlushAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        FlushTotals totals;
        DateTimeOffset since;
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            (totals, since, _pending, _since) = (_pending, _since, default, now);
        }
        if (totals.Flushes == 0)
            return;
        try
        {
            await trail.WriteAsync(action, new
            {
                intervalStart = since,
                intervalEnd = now,
                flushes = totals.Flushes,
                received = totals.Received,
                stored = totals.Stored,
                duplicates = totals.Duplicates,
                rejected = totals.Rejected,
                oldestEventCreatedAt = totals.OldestEvent,
                newestEventCreatedAt = totals.NewestEvent,
            }, cancellationToken);
        }
        // ObjectDisposedException: a host stopped twice (WebApplicationFactory does) may flush after its data source is gone.
        catch (Exception ex) when (FailureKind.IsOutage(ex) || ex is ObjectDisposedException)
        {
            Record(totals); // Keep the counts for the next interval rather than drop them.
            logger.LogWarning(ex, "Could not write the {Action} audit row; will retry next interval", action);
        }
    }
}
