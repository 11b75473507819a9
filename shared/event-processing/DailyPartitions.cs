using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Telemetry.ServiceDefaults.Failures;

namespace Telemetry.EventProcessing;

/// <summary>
/// Daily partitions of one time-partitioned table: created ahead of time on a schedule, and the day range that exists,
/// so an event whose day has no partition (too old: dropped by retention; too far ahead) is refused with a reason
/// instead of failing its whole batch.
/// </summary>
public sealed class DailyPartitions(NpgsqlDataSource dataSource, string table, TimeProvider clock)
{
    private volatile StrongBox? _window;

    public string Table => table;

    /// <summary>Creates the partitions from <paramref name="daysBack"/> days ago to <paramref name="daysAhead"/> days ahead.</summary>
    public async Task<int> EnsureAsync(int daysBack, int daysAhead, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        await using var command = dataSource.CreateCommand("SELECT ensure_daily_partitions($1, $2, $3)");
        command.Parameters.AddWithValue(table);
        command.Parameters.AddWithValue(today.AddDays(-daysBack));
        command.Parameters.AddWithValue(today.AddDays(daysAhead));
        var created = (int)(await command.ExecuteScalarAsync(cancellationToken))!;
        await RefreshAsync(cancellationToken);
        return created;
    }

    /// <summary>Re-reads which days have partitions.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT first_day, last_day FROM partition_days($1)");
        command.Parameters.AddWithValue(table);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        _window = new StrongBox(reader.IsDBNull(0)
            ? null
            : new DayRange(reader.GetFieldValue<DateOnly>(0), reader.GetFieldValue<DateOnly>(1)));
    }

    /// <summary>
    /// Null when the event's day has a partition, else why not. Refreshes once when the answer looks stale. With no
    /// partitions at all (a fresh install whose partition job has not run yet) nothing is refused: it throws
    /// <see cref="PartitionsNotReadyException"/>, so the batch is retried instead of dead-lettering good events.
    /// </summary>
    public async ValueTask<string?> RefusalAsync(DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        if (_window is null || !Covers(_window.Range, createdAt))
            await RefreshAsync(cancellationToken);
        var range = _window!.Range ?? throw new PartitionsNotReadyException(table);
        if (Covers(range, createdAt))
            return null;
        return $"createdAt {createdAt:O} is outside the {table} partitions that exist ({range.First:yyyy-MM-dd} .. {range.Last:yyyy-MM-dd}); "
               + (DateOnly.FromDateTime(createdAt.UtcDateTime) < range.First ? "older than the retention window" : "too far in the future");
    }

    private static bool Covers(DayRange? range, DateTimeOffset createdAt)
    {
        if (range is null)
            return false;
        var day = DateOnly.FromDateTime(createdAt.UtcDateTime);
        return day >= range.First && day <= range.Last;
    }

    private sealed record DayRange(DateOnly First, DateOnly Last);

    private sealed record StrongBox(DayRange? Range);
}

public sealed class PartitionsNotReadyException(string table)
    : DependencyUnavailableException($"No {table} partitions exist yet (the partition job has not run); the batch will be retried.");

public sealed class PartitionOptions
{
    /// <summary>Days before today that get a partition on a fresh install (never beyond the retention cutoff).</summary>
    [Range(0, 30)] public int DaysBack { get; set; } = 2;

    /// <summary>Days ahead kept ready, so writes never fail for a missing partition.</summary>
    [Range(1, 60)] public int DaysAhead { get; set; } = 7;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")] public TimeSpan CheckInterval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// Keeps partitions created ahead: once at startup and then on <see cref="PartitionOptions.CheckInterval"/>. A database
/// outage is waited out (<see cref="OutageRetry"/>), so the first partitions exist moments after PostgreSQL answers.
/// </summary>
public sealed class PartitionMaintenance(
    DailyPartitions partitions, IOptions<PartitionOptions> partitionOptions, RetentionOptions retention, OutageRetry outage,
    TimeProvider clock, ILogger<PartitionMaintenance> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = partitionOptions.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            var created = await outage.ExecuteAsync(
                async token => await partitions.EnsureAsync(Math.Min(options.DaysBack, retention.Days), options.DaysAhead, token), stoppingToken);
            if (created > 0)
                logger.LogInformation("Created {Created} daily partitions of {Table}", created, partitions.Table);
            await Task.Delay(options.CheckInterval, clock, stoppingToken);
        }
    }
}
