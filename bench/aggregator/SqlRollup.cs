using System.Diagnostics;
using Npgsql;
using Telemetry.Contracts;
using Telemetry.Testing;

namespace Telemetry.Bench.Aggregator;

/// <summary>
/// The database's own limit: the events in answer_events (binary COPY, untimed), rolled up by one INSERT … SELECT …
/// GROUP BY … ON CONFLICT DO UPDATE per aggregate table, in one transaction, into fresh copies of the six aggregate
/// tables (schema sql_rollup, LIKE … INCLUDING ALL: same keys, indexes and generated columns). Its result is also the
/// reference every drain is compared with, row by row.
/// </summary>
public sealed class SqlRollup(TestDatabase database)
{
    private const string Schema = "sql_rollup";
    private const string Day = "(created_at AT TIME ZONE 'UTC')::date";
    private const string Attempts = "count(*) FILTER (WHERE answer_index = 0)";
    private const string Correct = "count(*) FILTER (WHERE is_correct)";
    private const string AttemptDurations = "coalesce(sum(attempt_duration_sec) FILTER (WHERE answer_index = 0), 0)";

    private sealed record Table(string Name, string[] Keys, string[] KeyValues, int ConflictKeys, (string Column, string Value)[] Sums, string Where = "true")
    {
        public IEnumerable<string> Compared => Keys.Concat(Sums.Select(s => s.Column));
    }

    private static readonly (string, string)[] QuestionSums =
        [("attempts_total", "count(*)"), ("correct_total", Correct), ("duration_sum_sec", "sum(attempt_duration_sec)")];

    private static readonly (string, string)[] GroupSums =
        [("attempts_total", Attempts), ("answers_total", "count(*)"), ("correct_total", Correct), ("duration_sum_sec", AttemptDurations)];

    private static readonly Table[] Tables =
    [
        new("question_daily_aggregates", ["question_id", "day", "track_id"], ["question_id", Day, "track_id"], 2, QuestionSums),
        new("question_aggregates", ["question_id", "track_id"], ["question_id", "track_id"], 1, QuestionSums),
        new("track_daily_aggregates", ["track_id", "day"], ["track_id", Day], 2, GroupSums),
        new("track_aggregates", ["track_id"], ["track_id"], 1, GroupSums),
        new("cycle_daily_aggregates", ["cycle_number", "day"], ["cycle_number", Day], 2, GroupSums, "cycle_number IS NOT NULL"),
        new("cycle_aggregates", ["cycle_number"], ["cycle_number"], 1, GroupSums, "cycle_number IS NOT NULL"),
    ];

    public static readonly string AggregatorState =
        $"TRUNCATE processed_events, rollup_state, {string.Join(", ", Tables.Select(t => t.Name))}";

    /// <summary>Loads the events into answer_events and creates the empty copies of the aggregate tables.</summary>
    public async Task PrepareAsync(IReadOnlyList<AnswerSubmitted> events)
    {
        await using var connection = new NpgsqlConnection(database.AdminConnectionString);
        await connection.OpenAsync();
        await AnswerEventsCopy.CopyAsync(connection, events);
        await ExecuteAsync(connection, $"""
            ANALYZE answer_events;
            CREATE SCHEMA {Schema};
            {string.Concat(Tables.Select(t => $"CREATE TABLE {Schema}.{t.Name} (LIKE public.{t.Name} INCLUDING ALL);\n"))}
            """);
    }

    /// <summary>Empties the copies, then times the rollup of every event in answer_events into them (one transaction).</summary>
    public async Task<TimeSpan> RollupAsync()
    {
        await using var connection = new NpgsqlConnection(database.AdminConnectionString);
        await connection.OpenAsync();
        await ExecuteAsync(connection, $"TRUNCATE {string.Join(", ", Tables.Select(t => $"{Schema}.{t.Name}"))}");
        var clock = Stopwatch.StartNew();
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            foreach (var table in Tables)
                batch.BatchCommands.Add(new NpgsqlBatchCommand(UpsertSql(table)));
            await batch.ExecuteNonQueryAsync();
            await transaction.CommitAsync();
        }
        return clock.Elapsed;
    }

    /// <summary>
    /// Times recording every event id in the processed-events ledger with one statement (what exactly-once adds to the
    /// rollup), then empties the ledger again.
    /// </summary>
    public async Task<TimeSpan> LedgerAsync()
    {
        await using var connection = new NpgsqlConnection(database.AdminConnectionString);
        await connection.OpenAsync();
        await ExecuteAsync(connection, "TRUNCATE processed_events");
        var clock = Stopwatch.StartNew();
        await ExecuteAsync(connection, "INSERT INTO processed_events (event_id, created_at) SELECT id, created_at FROM answer_events ORDER BY id ON CONFLICT DO NOTHING");
        var elapsed = clock.Elapsed;
        await ExecuteAsync(connection, "TRUNCATE processed_events");
        return elapsed;
    }

    /// <summary>Rows of the aggregator's tables that differ from the SQL rollup's (keys and sums), per table; empty when equal.</summary>
    public async Task<IReadOnlyList<string>> DifferencesAsync()
    {
        var differences = new List<string>();
        foreach (var table in Tables)
        {
            var columns = string.Join(", ", table.Compared);
            var count = await database.ScalarAsync<long>($"""
                SELECT count(*) FROM (
                    (SELECT {columns} FROM public.{table.Name} EXCEPT ALL SELECT {columns} FROM {Schema}.{table.Name})
                    UNION ALL
                    (SELECT {columns} FROM {Schema}.{table.Name} EXCEPT ALL SELECT {columns} FROM public.{table.Name})) d
                """);
            if (count > 0)
                differences.Add($"{table.Name}: {count} rows differ");
        }
        return differences;
    }

    private static string UpsertSql(Table t)
    {
        var sums = t.Sums.Select(s => s.Column).ToList();
        return $"""
            INSERT INTO {Schema}.{t.Name} AS a ({string.Join(", ", t.Keys)}, {string.Join(", ", sums)}, last_calculated_at)
            SELECT {string.Join(", ", t.KeyValues)}, {string.Join(", ", t.Sums.Select(s => s.Value))}, now()
            FROM answer_events WHERE {t.Where}
            GROUP BY {string.Join(", ", Enumerable.Range(1, t.Keys.Length))}
            ON CONFLICT ({string.Join(", ", t.Keys.Take(t.ConflictKeys))}) DO UPDATE SET
                {string.Join(", ", sums.Select(c => $"{c} = a.{c} + excluded.{c}"))}, last_calculated_at = excluded.last_calculated_at
            """;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 };
        await command.ExecuteNonQueryAsync();
    }
}
