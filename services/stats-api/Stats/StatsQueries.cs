using Npgsql;

namespace Telemetry.StatsApi.Stats;

public sealed class StatsQueries(NpgsqlDataSource dataSource)
{
    public async Task<List<TrackStats>> TracksAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT track_id, attempts_total, answers_total, correct_total, accuracy_pct, avg_duration_sec, last_calculated_at
            FROM track_aggregates ORDER BY track_id
            """);
        return await ReadAllAsync(command, r => new TrackStats(
            r.GetGuid(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetFloat(4), r.GetFloat(5), r.GetFieldValue<DateTimeOffset>(6)), cancellationToken);
    }

    public async Task<List<QuestionStats>> QuestionsAsync(Guid trackId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT question_id, track_id, attempts_total, correct_total, accuracy_pct, avg_duration_sec, last_calculated_at
            FROM question_aggregates WHERE track_id = $1 ORDER BY question_id
            """);
        command.Parameters.AddWithValue(trackId);
        return await ReadAllAsync(command, r => new QuestionStats(
            r.GetGuid(0), r.GetGuid(1), r.GetInt64(2), r.GetInt64(3), r.GetFloat(4), r.GetFloat(5), r.GetFieldValue<DateTimeOffset>(6)), cancellationToken);
    }

    public async Task<CycleStats?> CycleAtAsync(DateTimeOffset instant, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT c.cycle_number, c.starts_at, c.ends_at, coalesce(a.attempts_total, 0), coalesce(a.answers_total, 0),
                   coalesce(a.correct_total, 0), coalesce(a.accuracy_pct, 0), a.last_calculated_at
            FROM cycles c LEFT JOIN cycle_aggregates a USING (cycle_number)
            WHERE c.starts_at <= $1 AND $1 < c.ends_at
            """);
        command.Parameters.AddWithValue(instant.UtcDateTime);
        var rows = await ReadAllAsync(command, r => new CycleStats(
            r.GetInt32(0), r.GetFieldValue<DateTimeOffset>(1), r.GetFieldValue<DateTimeOffset>(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5),
            r.GetFloat(6), r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7)), cancellationToken);
        return rows.SingleOrDefault();
    }

    private static async Task<List<T>> ReadAllAsync<T>(NpgsqlCommand command, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
    {
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            rows.Add(map(reader));
        return rows;
    }
}
