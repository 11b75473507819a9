using Npgsql;
using Telemetry.Contracts;

namespace Telemetry.Aggregator.Rollups;

/// <summary>
/// Applies a batch exactly once: in one transaction, records the batch's event ids in the processed-events ledger,
/// keeps only the ids that were new, and adds their deltas to the question, track and cycle aggregates.
/// Every statement touches keys in ascending order, so concurrent replicas queue behind each other instead of deadlocking.
/// </summary>
public sealed class RollupWriter(NpgsqlDataSource dataSource, TimeProvider clock)
{
    private const string RecordInLedger = """
        INSERT INTO processed_events (event_id, created_at)
        SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) ORDER BY 1
        ON CONFLICT DO NOTHING
        RETURNING event_id
        """;

    private const string UpsertQuestions = """
        INSERT INTO question_aggregates AS a (question_id, track_id, attempts_total, correct_total, duration_sum_sec, last_calculated_at)
        SELECT q, t, n, c, d, $6 FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[], $5::bigint[]) AS u(q, t, n, c, d) ORDER BY q
        ON CONFLICT (question_id) DO UPDATE SET
            attempts_total = a.attempts_total + excluded.attempts_total,
            correct_total = a.correct_total + excluded.correct_total,
            duration_sum_sec = a.duration_sum_sec + excluded.duration_sum_sec,
            last_calculated_at = excluded.last_calculated_at
        """;

    private const string UpsertGroups = """
        INSERT INTO {0} AS a ({1}, attempts_total, answers_total, correct_total, duration_sum_sec, last_calculated_at)
        SELECT k, n, m, c, d, $6 FROM unnest($1::{2}[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS u(k, n, m, c, d) ORDER BY k
        ON CONFLICT ({1}) DO UPDATE SET
            attempts_total = a.attempts_total + excluded.attempts_total,
            answers_total = a.answers_total + excluded.answers_total,
            correct_total = a.correct_total + excluded.correct_total,
            duration_sum_sec = a.duration_sum_sec + excluded.duration_sum_sec,
            last_calculated_at = excluded.last_calculated_at
        """;

    private static readonly string UpsertTracks = string.Format(UpsertGroups, "track_aggregates", "track_id", "uuid");
    private static readonly string UpsertCycles = string.Format(UpsertGroups, "cycle_aggregates", "cycle_number", "int");

    /// <returns>The events that were new and so were applied.</returns>
    public async Task<IReadOnlyList<AnswerSubmitted>> ApplyAsync(IReadOnlyList<AnswerSubmitted> events, CancellationToken cancellationToken)
    {
        events = events.DistinctBy(e => e.EventId).ToList();
        if (events.Count == 0)
            return [];
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var fresh = await RecordAsync(connection, transaction, events, cancellationToken);
        if (fresh.Count > 0)
        {
            var deltas = AggregateDeltas.From(fresh);
            var now = clock.GetUtcNow().UtcDateTime;
            await using var batch = new NpgsqlBatch(connection, transaction);
            batch.BatchCommands.Add(Command(UpsertQuestions,
                deltas.Questions.Select(d => d.QuestionId).ToArray(), deltas.Questions.Select(d => d.TrackId).ToArray(),
                deltas.Questions.Select(d => d.Attempts).ToArray(), deltas.Questions.Select(d => d.Correct).ToArray(),
                deltas.Questions.Select(d => d.DurationSumSec).ToArray(), now));
            batch.BatchCommands.Add(GroupCommand(UpsertTracks, deltas.Tracks, now));
            if (deltas.Cycles.Count > 0)
                batch.BatchCommands.Add(GroupCommand(UpsertCycles, deltas.Cycles, now));
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

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

    private static NpgsqlBatchCommand GroupCommand<TKey>(string sql, IReadOnlyList<GroupDelta<TKey>> deltas, DateTime now) =>
        Command(sql, deltas.Select(d => d.Key).ToArray(), deltas.Select(d => d.Attempts).ToArray(), deltas.Select(d => d.Answers).ToArray(),
            deltas.Select(d => d.Correct).ToArray(), deltas.Select(d => d.DurationSumSec).ToArray(), now);

    private static NpgsqlBatchCommand Command(string sql, params object[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var parameter in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        return command;
    }
}
