using System.Diagnostics.Metrics;
using Npgsql;
using Telemetry.EventProcessing;
using Telemetry.ServiceDefaults;

namespace Telemetry.Aggregator.Reconciliation;

public sealed record BucketCounts(long Attempts, long Answers, long Correct, long DurationSumSec);

/// <summary>A daily bucket that differs from the recomputation over the raw events of its day.</summary>
public sealed record BucketDifference(string Scope, string Key, DateOnly Day, BucketCounts Raw, BucketCounts Applied);

public sealed record ReconciliationReport(DateOnly? FirstDay, DateOnly? LastDay, IReadOnlyList<BucketDifference> Differences, bool Repaired);

/// <summary>
/// Recomputes the daily buckets of every settled day still fully retained in answer_events (partitions are dropped
/// whole, so every day that has a partition is complete) and compares them with what the aggregator applied.
/// Repair, on request, first records the day's raw event ids in the ledger (so an in-flight copy can never be applied
/// later), then sets each differing bucket to the recomputed value and the key's forever total to the sum of its daily
/// buckets, which are kept forever. Totals are never rebuilt from the retained raw window.
/// </summary>
public sealed class Reconciler(NpgsqlDataSource dataSource, AuditTrail audit, ReconciliationOptions options, TimeProvider clock, ILogger<Reconciler> logger)
{
    public const string AuditAction = "reconciliation_completed";
    private static readonly Meter Meter = new(Observability.SourcePrefix + "aggregator");
    private static readonly Counter<long> DifferencesFound = Meter.CreateCounter<long>("telemetry.reconciliation.differences", description: "Daily buckets that differed from the raw events");

    private sealed record Scope(string Name, string DailyTable, string TotalsTable, string Key, string KeyType, string Attempts, string Answers, string Duration, string Filter)
    {
        public bool PerQuestion => Name == "question";
    }

    private static readonly Scope[] Scopes =
    [
        new("question", "question_daily_aggregates", "question_aggregates", "question_id", "uuid",
            "count(*)", "count(*)", "sum(attempt_duration_sec)", "true"),
        new("track", "track_daily_aggregates", "track_aggregates", "track_id", "uuid",
            "count(*) FILTER (WHERE answer_index = 0)", "count(*)", "coalesce(sum(attempt_duration_sec) FILTER (WHERE answer_index = 0), 0)", "true"),
        new("cycle", "cycle_daily_aggregates", "cycle_aggregates", "cycle_number", "int",
            "count(*) FILTER (WHERE answer_index = 0)", "count(*)", "coalesce(sum(attempt_duration_sec) FILTER (WHERE answer_index = 0), 0)", "cycle_number IS NOT NULL"),
    ];

    public async Task<ReconciliationReport> RunAsync(bool repair, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var (first, last) = await SettledDaysAsync(connection, cancellationToken);
        var differences = new List<BucketDifference>();
        if (first is { } from && last is { } to && from <= to)
        {
            for (var day = from; day <= to; day = day.AddDays(1))
            {
                var found = repair
                    ? await RepairDayAsync(connection, day, cancellationToken)
                    : await DifferencesAsync(connection, null, day, cancellationToken);
                differences.AddRange(found);
            }
        }

        var report = new ReconciliationReport(first, last, differences, repair && differences.Count > 0);
        DifferencesFound.Add(differences.Count);
        foreach (var difference in differences.Take(20))
            logger.LogWarning("Reconciliation: {Scope} {Key} on {Day}: raw {Raw}, applied {Applied}{Repaired}",
                difference.Scope, difference.Key, difference.Day, difference.Raw, difference.Applied, repair ? " (repaired)" : "");
        logger.LogInformation("Reconciliation checked {First}..{Last}: {Count} differing daily buckets", first, last, differences.Count);
        await audit.WriteAsync(AuditAction, new
        {
            firstDay = first,
            lastDay = last,
            differences = differences.Count,
            repaired = report.Repaired,
            sample = differences.Take(20),
        }, cancellationToken);
        return report;
    }

    /// <summary>Days with a raw partition whose end lies at least SettleTime in the past.</summary>
    private async Task<(DateOnly? First, DateOnly? Last)> SettledDaysAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT first_day FROM partition_days('answer_events')", connection);
        DateOnly? first = null;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            if (await reader.ReadAsync(cancellationToken) && !reader.IsDBNull(0))
                first = reader.GetFieldValue<DateOnly>(0);
        var settled = DateOnly.FromDateTime(clock.GetUtcNow().Subtract(options.SettleTime).UtcDateTime).AddDays(-1);
        return (first, first is null ? null : settled);
    }

    private static async Task<List<BucketDifference>> DifferencesAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, DateOnly day, CancellationToken cancellationToken)
    {
        var differences = new List<BucketDifference>();
        foreach (var scope in Scopes)
        {
            await using var command = new NpgsqlCommand($"""
                WITH raw AS (
                    SELECT {scope.Key} AS key, {scope.Attempts} AS attempts, {scope.Answers} AS answers,
                           count(*) FILTER (WHERE is_correct) AS correct, {scope.Duration} AS duration
                    FROM answer_events
                    WHERE created_at >= $1 AND created_at < $2 AND {scope.Filter}
                    GROUP BY {scope.Key}),
                applied AS (
                    SELECT {scope.Key} AS key, attempts_total AS attempts, {(scope.PerQuestion ? "attempts_total" : "answers_total")} AS answers,
                           correct_total AS correct, duration_sum_sec AS duration
                    FROM {scope.DailyTable} WHERE day = $3)
                SELECT key::text, coalesce(r.attempts, 0), coalesce(r.answers, 0), coalesce(r.correct, 0), coalesce(r.duration, 0),
                       coalesce(a.attempts, 0), coalesce(a.answers, 0), coalesce(a.correct, 0), coalesce(a.duration, 0)
                FROM raw r FULL JOIN applied a USING (key)
                WHERE (r.attempts, r.answers, r.correct, r.duration) IS DISTINCT FROM (a.attempts, a.answers, a.correct, a.duration)
                ORDER BY key
                """, connection, transaction);
            command.Parameters.AddWithValue(day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));
            command.Parameters.AddWithValue(day.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));
            command.Parameters.AddWithValue(day);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                differences.Add(new BucketDifference(scope.Name, reader.GetString(0), day,
                    new BucketCounts(reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)),
                    new BucketCounts(reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8))));
        }
        return differences;
    }

    private async Task<List<BucketDifference>> RepairDayAsync(NpgsqlConnection connection, DateOnly day, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var claim = new NpgsqlCommand("""
            INSERT INTO processed_events (event_id, created_at)
            SELECT id, created_at FROM answer_events WHERE created_at >= $1 AND created_at < $2 ORDER BY id
            ON CONFLICT DO NOTHING
            """, connection, transaction))
        {
            claim.Parameters.AddWithValue(day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));
            claim.Parameters.AddWithValue(day.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));
            await claim.ExecuteNonQueryAsync(cancellationToken);
        }
        // Same table order as a flush, so a concurrent flush finishes first or waits; the recomputation then sees it.
        await using (var lockTables = new NpgsqlCommand(string.Join(";", Scopes.SelectMany(s => new[] { s.DailyTable, s.TotalsTable })
                         .Select(t => $"LOCK TABLE {t} IN SHARE ROW EXCLUSIVE MODE")), connection, transaction))
            await lockTables.ExecuteNonQueryAsync(cancellationToken);

        var differences = await DifferencesAsync(connection, transaction, day, cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var difference in differences)
            await CorrectAsync(connection, transaction, Scopes.Single(s => s.Name == difference.Scope), difference, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return differences;
    }

    /// <summary>Sets the day's bucket to the recomputed value, then the forever total to the sum of the key's daily buckets
    /// (they are kept forever and every applied event lands in exactly one, so that sum is the total).</summary>
    private static async Task CorrectAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Scope scope, BucketDifference d, DateTime now, CancellationToken cancellationToken)
    {
        var sums = scope.PerQuestion ? new[] { "attempts_total", "correct_total", "duration_sum_sec" } : ["attempts_total", "answers_total", "correct_total", "duration_sum_sec"];
        var values = scope.PerQuestion ? new[] { d.Raw.Attempts, d.Raw.Correct, d.Raw.DurationSumSec } : [d.Raw.Attempts, d.Raw.Answers, d.Raw.Correct, d.Raw.DurationSumSec];
        var columns = string.Join(", ", sums);
        var replace = string.Join(", ", sums.Select(c => $"{c} = excluded.{c}"));
        var key = $"$1::{scope.KeyType}";
        // A question's track: from its other buckets, or from the raw events when the bucket is its first.
        var keyColumns = scope.PerQuestion ? $"{scope.Key}, track_id" : scope.Key;
        var keyValues = scope.PerQuestion
            ? $"{key}, coalesce((SELECT track_id FROM question_daily_aggregates WHERE question_id = {key} LIMIT 1), (SELECT track_id FROM answer_events WHERE question_id = {key} LIMIT 1))"
            : key;

        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand($"""
                    INSERT INTO {scope.DailyTable} AS a ({keyColumns}, day, {columns}, last_calculated_at)
                    VALUES ({keyValues}, $2, {string.Join(", ", values)}, $3)
                    ON CONFLICT ({scope.Key}, day) DO UPDATE SET {replace}, last_calculated_at = excluded.last_calculated_at
                    """) { Parameters = { new() { Value = d.Key }, new() { Value = d.Day }, new() { Value = now } } },
                new NpgsqlBatchCommand($"""
                    INSERT INTO {scope.TotalsTable} AS a ({keyColumns}, {columns}, last_calculated_at)
                    SELECT {(scope.PerQuestion ? $"{scope.Key}, min(track_id::text)::uuid" : scope.Key)}, {string.Join(", ", sums.Select(c => $"sum({c})"))}, $2
                    FROM {scope.DailyTable} WHERE {scope.Key} = {key} GROUP BY {scope.Key}
                    ON CONFLICT ({scope.Key}) DO UPDATE SET {replace}, last_calculated_at = excluded.last_calculated_at
                    """) { Parameters = { new() { Value = d.Key }, new() { Value = now } } },
            },
        };
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }
}
