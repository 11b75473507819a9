using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Npgsql;
using Telemetry.ServiceDefaults.Failures;

namespace Telemetry.Aggregator.Reconciliation;

public sealed class ReconciliationOptions
{
    /// <summary>How long after a day ends before it is checked, so events still in flight are not reported as differences.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")] public TimeSpan SettleTime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the scheduled check runs (report only; repair is on request).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")] public TimeSpan Interval { get; set; } = TimeSpan.FromHours(6);
}

/// <summary>Runs the reconciliation check on its interval; only one replica at a time (advisory lock).</summary>
public sealed class ReconciliationSchedule(Reconciler reconciler, NpgsqlDataSource dataSource, ReconciliationOptions options, TimeProvider clock, ILogger<ReconciliationSchedule> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(options.Interval, clock, stoppingToken);
            try
            {
                await using var session = await dataSource.OpenConnectionAsync(stoppingToken);
                await using var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtext('reconciliation'))", session);
                if (await tryLock.ExecuteScalarAsync(stoppingToken) is not true)
                    continue;
                await reconciler.RunAsync(repair: false, stoppingToken);
                await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtext('reconciliation'))", session);
                await unlock.ExecuteScalarAsync(stoppingToken);
            }
            catch (Exception ex) when (FailureKind.IsOutage(ex))
            {
                logger.LogError(ex, "Reconciliation failed; next try in {Interval}", options.Interval);
            }
        }
    }
}

public static class ReconcileCommand
{
    /// <summary>`reconcile` reports differing daily buckets as JSON; `reconcile --repair` also repairs them. Exit code 3 when any differ.</summary>
    public static async Task<int?> TryRunAsync(WebApplication app, string[] args)
    {
        if (args is not ["reconcile", ..])
            return null;
        var report = await app.Services.GetRequiredService<Reconciler>().RunAsync(repair: args.Contains("--repair"), CancellationToken.None);
        Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerOptions.Web) { WriteIndented = true }));
        return report.Differences.Count == 0 || report.Repaired ? 0 : 3;
    }
}
