using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Telemetry.ServiceDefaults.Failures;

namespace Telemetry.EventProcessing;

public sealed class RetentionOptions
{
    public const string RetentionDaysVariable = "ANSWER_EVENTS_RETENTION_DAYS";

    /// <summary>Whole days of raw events (and of the processed-events ledger) kept; from ANSWER_EVENTS_RETENTION_DAYS.</summary>
    [Range(1, 3650)] public int Days { get; set; } = 60;

    /// <summary>How often the retention job runs (it also runs once at startup).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")] public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Longest a drop waits for the table lock before giving way to writers and retrying.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")] public TimeSpan LockWait { get; set; } = TimeSpan.FromSeconds(2);

    [Range(0, 100)] public int LockRetries { get; set; } = 5;

    /// <summary>audit_logs rows older than this are deleted by the job that owns audit cleanup (0: never).</summary>
    [Range(0, 36500)] public int AuditDays { get; set; } = 400;

    public static RetentionOptions Bind(IConfiguration configuration, string section)
    {
        var options = configuration.GetSection(section).Get<RetentionOptions>() ?? new RetentionOptions();
        var raw = configuration[RetentionDaysVariable];
        if (!string.IsNullOrWhiteSpace(raw))
            options.Days = int.TryParse(raw, out var days) && days is >= 1 and <= 3650
                ? days
                : throw new InvalidOperationException($"{RetentionDaysVariable} must be a whole number of days from 1 to 3650, not '{raw}'.");
        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), errors, validateAllProperties: true))
            throw new InvalidOperationException($"Invalid {section}: {string.Join("; ", errors.Select(e => e.ErrorMessage))}");
        return options;
    }
}

public sealed record DroppedPartition(string Partition, DateOnly Day, long Rows);

public sealed record RetentionReport(
    string Table, DateOnly CutoffDay, IReadOnlyList<DroppedPartition> Dropped, DateOnly? OldestRemainingDay, long AuditRowsRemoved, bool SkippedBecauseLocked)
{
    public long RowsRemoved => Dropped.Sum(d => d.Rows);
}

/// <summary>
/// Keeps a daily-partitioned table bounded: drops, one at a time, every partition whose whole day is older than the
/// retention cutoff. Only one replica runs it at a time (session advisory lock); a drop waits at most LockWait for
/// writers and is retried with backoff. Only partitioned raw tables are touched, never aggregates.
/// </summary>
public sealed class PartitionRetention(
    NpgsqlDataSource dataSource, string table, bool cleansAuditLog, RetentionOptions options, TimeProvider clock, AuditTrail audit, ILogger<PartitionRetention> logger)
{
    private const string LockNotAvailable = "55P03";

    public string Table => table;

    public async Task<RetentionReport> RunAsync(CancellationToken cancellationToken)
    {
        var cutoff = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime).AddDays(-options.Days);
        await using var session = await dataSource.OpenConnectionAsync(cancellationToken);
        if (!await ScalarAsync<bool>(session, "SELECT pg_try_advisory_lock(hashtext($1))", cancellationToken, "retention:" + table))
        {
            logger.LogInformation("Retention of {Table} is already running in another instance; skipped", table);
            return new RetentionReport(table, cutoff, [], null, 0, SkippedBecauseLocked: true);
        }
        try
        {
            var dropped = new List<DroppedPartition>();
            while (await DropOldestAsync(session, cutoff, cancellationToken) is { } partition)
            {
                dropped.Add(partition);
                logger.LogInformation("Retention dropped {Partition} ({Rows} rows)", partition.Partition, partition.Rows);
            }
            var auditRows = cleansAuditLog && options.AuditDays > 0 ? await CleanAuditLogAsync(session, cancellationToken) : 0;
            var oldest = await ScalarAsync<DateOnly?>(session, "SELECT first_day FROM partition_days($1)", cancellationToken, table);
            var report = new RetentionReport(table, cutoff, dropped, oldest, auditRows, SkippedBecauseLocked: false);
            if (dropped.Count > 0 || auditRows > 0)
                await audit.WriteAsync(AuditActions.RetentionCleanup, new
                {
                    table,
                    retentionDays = options.Days,
                    cutoffDay = cutoff,
                    partitionsDropped = dropped.Select(d => d.Partition),
                    rowsRemoved = report.RowsRemoved,
                    oldestRemainingDay = oldest,
                    auditRowsRemoved = auditRows,
                }, cancellationToken);
            return report;
        }
        finally
        {
            await ScalarAsync<bool>(session, "SELECT pg_advisory_unlock(hashtext($1))", CancellationToken.None, "retention:" + table);
        }
    }

    private async Task<DroppedPartition?> DropOldestAsync(NpgsqlConnection session, DateOnly cutoff, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await using var command = new NpgsqlCommand("SELECT partition, day, row_count FROM drop_oldest_expired_partition($1, $2, $3)", session);
                command.Parameters.AddWithValue(table);
                command.Parameters.AddWithValue(cutoff);
                command.Parameters.AddWithValue(options.LockWait);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                return await reader.ReadAsync(cancellationToken)
                    ? new DroppedPartition(reader.GetString(0), reader.GetFieldValue<DateOnly>(1), reader.GetInt64(2))
                    : null;
            }
            catch (PostgresException ex) when (ex.SqlState == LockNotAvailable && attempt < options.LockRetries)
            {
                var backoff = TimeSpan.FromMilliseconds(200 * Math.Pow(2, attempt) + Random.Shared.Next(0, 200));
                logger.LogWarning("Retention of {Table} gave way to writers (lock wait over {LockWait}); retrying in {Backoff}", table, options.LockWait, backoff);
                await Task.Delay(backoff, clock, cancellationToken);
            }
        }
    }

    private async Task<long> CleanAuditLogAsync(NpgsqlConnection session, CancellationToken cancellationToken)
    {
        long removed = 0, chunk;
        var before = clock.GetUtcNow().AddDays(-options.AuditDays).UtcDateTime;
        do
        {
            await using var command = new NpgsqlCommand(
                "DELETE FROM audit_logs WHERE id IN (SELECT id FROM audit_logs WHERE occurred_at < $1 ORDER BY id LIMIT 5000)", session);
            command.Parameters.AddWithValue(before);
            chunk = await command.ExecuteNonQueryAsync(cancellationToken);
            removed += chunk;
        } while (chunk > 0);
        return removed;
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection session, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, session);
        foreach (var parameter in parameters)
            command.Parameters.AddWithValue(parameter);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) && !reader.IsDBNull(0) ? reader.GetFieldValue<T>(0) : default!;
    }
}

/// <summary>Runs retention at startup and then every <see cref="RetentionOptions.Interval"/>.</summary>
public sealed class RetentionSchedule(
    PartitionRetention retention, RetentionOptions options, ConsumerMetrics metrics, TimeProvider clock, ILogger<RetentionSchedule> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var report = await retention.RunAsync(stoppingToken);
                if (!report.SkippedBecauseLocked)
                    metrics.RetentionRan(report.Table, report.Dropped.Count);
            }
            catch (Exception ex) when (FailureKind.IsOutage(ex))
            {
                logger.LogError(ex, "Retention of {Table} failed; next try in {Interval}", retention.Table, options.Interval);
            }
            await Task.Delay(options.Interval, clock, stoppingToken);
        }
    }
}
