using Npgsql;
using Telemetry.Contracts;

namespace Telemetry.EventIngestor.AnswerEvents;

/// <summary>
/// One bulk, idempotent insert: the primary key (id, created_at) turns every duplicate into a no-op. At the ingestor's
/// batch size this statement beat binary COPY into a temporary staging table followed by the same INSERT … ON CONFLICT
/// (bench/ingestor measures both): the staging table costs a catalog entry per batch, and the insert is the same.
/// </summary>
public sealed class AnswerEventWriter(NpgsqlDataSource dataSource)
{
    private const string Sql = """
        INSERT INTO answer_events (id, attempt_id, wallet_address, track_id, question_id, selected_answer, is_correct,
            score_basis_points, attempt_duration_sec, level_at_time, auto_decision, cycle_number, answer_index, answer_count, created_at)
        SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::uuid[], $6::text[], $7::boolean[],
            $8::int[], $9::int[], $10::int[], $11::text[], $12::int[], $13::int[], $14::int[], $15::timestamptz[])
        ON CONFLICT DO NOTHING
        """;

    /// <returns>How many rows were new.</returns>
    public async Task<int> WriteAsync(IReadOnlyList<AnswerSubmitted> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
            return 0;
        await using var command = dataSource.CreateCommand(Sql);
        Add(command, events, e => e.EventId);
        Add(command, events, e => e.AttemptId);
        Add(command, events, e => e.WalletAddress);
        Add(command, events, e => e.TrackId);
        Add(command, events, e => e.QuestionId);
        Add(command, events, e => e.SelectedAnswer);
        Add(command, events, e => e.IsCorrect);
        Add(command, events, e => e.ScoreBasisPoints);
        Add(command, events, e => e.AttemptDurationSec);
        Add(command, events, e => e.LevelAtTime);
        Add(command, events, e => e.AutoDecision);
        Add(command, events, e => e.CycleNumber);
        Add(command, events, e => e.AnswerIndex);
        Add(command, events, e => e.AnswerCount);
        Add(command, events, e => e.CreatedAt.UtcDateTime);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void Add<T>(NpgsqlCommand command, IReadOnlyList<AnswerSubmitted> events, Func<AnswerSubmitted, T> column)
    {
        var values = new T[events.Count];
        for (var i = 0; i < values.Length; i++)
            values[i] = column(events[i]);
        command.Parameters.Add(new NpgsqlParameter<T[]> { TypedValue = values });
    }
}
