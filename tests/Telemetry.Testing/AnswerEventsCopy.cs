using Npgsql;
using NpgsqlTypes;
using Telemetry.Contracts;

namespace Telemetry.Testing;

/// <summary>
/// Raw answer_events rows loaded with binary COPY: the fastest way in, without the ingestor's conflict handling, for
/// benchmarks and tests that need many raw events as they are stored.
/// </summary>
public static class AnswerEventsCopy
{
    public const string Columns = "id, attempt_id, wallet_address, track_id, question_id, selected_answer, is_correct, score_basis_points, "
                                  + "attempt_duration_sec, level_at_time, auto_decision, cycle_number, answer_index, answer_count, created_at";

    /// <summary>Copies the events into <paramref name="table"/>: answer_events, or a table with the same columns.</summary>
    /// <returns>The rows copied.</returns>
    public static async Task<ulong> CopyAsync(NpgsqlConnection connection, IEnumerable<AnswerSubmitted> events, string table = "answer_events")
    {
        await using var import = await connection.BeginBinaryImportAsync($"COPY {table} ({Columns}) FROM STDIN (FORMAT BINARY)");
        foreach (var e in events)
        {
            await import.StartRowAsync();
            await import.WriteAsync(e.EventId, NpgsqlDbType.Uuid);
            await import.WriteAsync(e.AttemptId, NpgsqlDbType.Uuid);
            await import.WriteAsync(e.WalletAddress, NpgsqlDbType.Text);
            await import.WriteAsync(e.TrackId, NpgsqlDbType.Uuid);
            await import.WriteAsync(e.QuestionId, NpgsqlDbType.Uuid);
            await import.WriteAsync(e.SelectedAnswer, NpgsqlDbType.Text);
            await import.WriteAsync(e.IsCorrect, NpgsqlDbType.Boolean);
            await import.WriteAsync(e.ScoreBasisPoints, NpgsqlDbType.Integer);
            await import.WriteAsync(e.AttemptDurationSec, NpgsqlDbType.Integer);
            await import.WriteAsync(e.LevelAtTime, NpgsqlDbType.Integer);
            await import.WriteAsync(e.AutoDecision, NpgsqlDbType.Text);
            if (e.CycleNumber is { } cycle)
                await import.WriteAsync(cycle, NpgsqlDbType.Integer);
            else
                await import.WriteNullAsync();
            await import.WriteAsync(e.AnswerIndex, NpgsqlDbType.Integer);
            await import.WriteAsync(e.AnswerCount, NpgsqlDbType.Integer);
            await import.WriteAsync(e.CreatedAt.UtcDateTime, NpgsqlDbType.TimestampTz);
        }
        return await import.CompleteAsync();
    }
}
