using Npgsql;
using Telemetry.Contracts;
using Telemetry.ServiceDefaults;

namespace Telemetry.Aggregator.Rollups;

/// <summary>
/// Applies a batch exactly once: in one transaction, records the batch's event ids in the processed-events ledger,
/// keeps only the ids that were new, and adds their deltas to the daily buckets and the totals of questions, tracks
/// and cycles. Every statement touches keys in ascending order and the statements always run in the same order, so
/// concurrent replicas queue behind each other instead of deadlocking.
/// </summary>
public sealed class RollupWriter(NpgsqlDataSource dataSource, TimeProvider clock, ServiceIdentity identity)
{
    private const string RecordInLedger = """
        INSERT INTO processed_events (event_id, created_at)
        SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) ORDER BY 1
        ON CONFLICT DO NOTHING
        RETURNING event_id
        """;

    private const string RecordFlush = """
        INSERT INTO rollup_state AS s (instance, last_flush_at, events_applied) VALUES ($1, $2, $3)
        ON CONFLICT (instance) DO UPDATE SET last_flush_at = excluded.last_flush_at, events_applied = s.events_applied + excluded.events_applied
        """;

    private static readonly string[] QuestionSums = ["attempts_total", "correct_total", "duration_sum_sec"];
    private static readonly string[] GroupSums = ["attempts_total", "answers_total", "correct_total", "duration_sum_sec"];

    // The batch's day-level deltas as rows; $7 is the flush time.
    private const string QuestionDeltas =
        "unnest($1::uuid[], $2::date[], $3::uuid[], $4::bigint[], $5::bigint[], $6::bigint[]) AS u(q, d, t, n, c, s)";

    private static string GroupDeltas(string keyType) =>
        $"unnest($1::{keyType}[], $2::date[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]) AS u(k, d, n, m, c, s)";

    private static readonly string UpsertQuestionDays = UpsertSql("question_daily_aggregates", "question_id, day, track_id", "question_id, day", QuestionSums,
        $"SELECT q, d, t, n, c, s, $7 FROM {QuestionDeltas} ORDER BY q, d");
    private static readonly string UpsertQuestionTotals = UpsertSql("question_aggregates", "question_id, track_id", "question_id", QuestionSums,
        $"SELECT q, t, sum(n), sum(c), sum(s), $7 FROM {QuestionDeltas} GROUP BY q, t ORDER BY q");
    private static readonly string UpsertTrackDays = GroupDaysSql("track_daily_aggregates", "track_id", "uuid");
    private static readonly string UpsertTrackTotals = GroupTotalsSql("track_aggregates", "track_id", "uuid");
    private static readonly string UpsertCycleDays = GroupDaysSql("cycle_daily_aggregates", "cycle_number", "int");
    private static readonly string UpsertCycleTotals = GroupTotalsSql("cycle_aggregates", "cycle_number", "int");

    private static string GroupDaysSql(string table, string key, string keyType) =>
        UpsertSql(table, $"{key}, day", $"{key}, day", GroupSums, $"SELECT k, d, n, m, c, s, $7 FROM {GroupDeltas(keyType)} ORDER BY k, d");

    private static string GroupTotalsSql(string table, string key, string keyType) =>
        UpsertSql(table, key, key, GroupSums, $"SELECT k, sum(n), sum(m), sum(c), sum(s), $7 FROM {GroupDeltas(keyType)} GROUP BY k ORDER BY k");

    private static string UpsertSql(string table, string keyColumns, string conflictKeys, string[] sums, string rows) => $"""
        INSERT INTO {table} AS a ({keyColumns}, {string.Join(", ", sums)}, last_calculated_at)
        {rows}
        ON CONFLICT ({conflictKeys}) DO UPDATE SET {string.Join(", ", sums.Select(c => $"{c} = a.{c} + excluded.{c}"))},
            last_calculated_at = excluded.last_calculated_at
        """;

    /// <returns>The events that were new and so were applied.</returns>
    public async Task<IReadOnlyList<AnswerSubmitted>> ApplyAsync(IReadOnlyList<AnswerSubmitted> events, CancellationToken cancellationToken)
    {
        events = events.DistinctBy(e => e.EventId).ToList();
        if (events.Count == 0)
            return [];
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var fresh = await RecordAsync(connection, transaction, events, cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        await using var batch = new NpgsqlBatch(connection, transaction);
        if (fresh.Count > 0)
        {
            var deltas = AggregateDeltas.From(fresh);
            var questions = QuestionParameters(deltas.Questions, now);
            batch.BatchCommands.Add(Command(UpsertQuestionDays, questions));
            batch.BatchCommands.Add(Command(UpsertQuestionTotals, questions));
            var tracks = GroupParameters(deltas.Tracks, now);
            batch.BatchCommands.Add(Command(UpsertTrackDays, tracks));
            batch.BatchCommands.Add(Command(UpsertTrackTotals, tracks));
            if (deltas.Cycles.Count > 0)
            {
                var cycles = GroupParameters(deltas.Cycles, now);
                batch.BatchCommands.Add(Command(UpsertCycleDays, cycles));
                batch.BatchCommands.Add(Command(UpsertCycleTotals, cycles));
            }
        }
        batch.BatchCommands.Add(Command(RecordFlush, [identity.Instance, now, (long)fresh.Count]));
        await batch.ExecuteNonQueryAsync(cancellationToken);

        await transaction.CommitAsync(cancellationToken);
        return fresh;
    }

    private static async Task<List<AnswerSubmitted>> RecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IReadOnlyList<AnswerSubmitted> events, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(RecordInLedger, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = events.Select(e => e.EventId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = events.Select(e => e.CreatedAt.UtcDateTime).ToArray() });
        var newIds = new HashSet<Guid>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                newIds.Add(reader.GetGuid(0));
        return events.Where(e => newIds.Contains(e.EventId)).ToList();
    }

    private static object[] QuestionParameters(IReadOnlyList<QuestionDelta> deltas, DateTime now) =>
    [
        deltas.Select(d => d.QuestionId).ToArray(), deltas.Select(d => d.Day).ToArray(), deltas.Select(d => d.TrackId).ToArray(),
        deltas.Select(d => d.Attempts).ToArray(), deltas.Select(d => d.Correct).ToArray(), deltas.Select(d => d.DurationSumSec).ToArray(), now,
    ];

    private static object[] GroupParameters<TKey>(IReadOnlyList<GroupDelta<TKey>> deltas, DateTime now) =>
    [
        deltas.Select(d => d.Key).ToArray(), deltas.Select(d => d.Day).ToArray(), deltas.Select(d => d.Attempts).ToArray(),
        deltas.Select(d => d.Answers).ToArray(), deltas.Select(d => d.Correct).ToArray(), deltas.Select(d => d.DurationSumSec).ToArray(), now,
    ];

    private static NpgsqlBatchCommand Command(string sql, object[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var parameter in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        return command;
    }
}
