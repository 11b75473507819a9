using Npgsql;
using Telemetry.StatsApi.Http;

namespace Telemetry.StatsApi.Stats;

/// <summary>
/// Every query reads its rows and the freshness mark (the newest aggregator flush, max(rollup_state.last_flush_at)) in
/// one read-only, repeatable-read transaction, sent as one batch: one round trip, and the "as of" time describes
/// exactly the rows read.
/// </summary>
public sealed class StatsQueries(NpgsqlDataSource dataSource)
{
    private const string TrackColumns =
        "track_id, attempts_total, answers_total, correct_total, accuracy_pct, avg_duration_sec, last_calculated_at";
    private const string QuestionColumns =
        "question_id, track_id, attempts_total, correct_total, accuracy_pct, avg_duration_sec, last_calculated_at";
    private const string CycleColumns = """
        c.cycle_number, c.starts_at, c.ends_at, coalesce(a.attempts_total, 0), coalesce(a.answers_total, 0),
        coalesce(a.correct_total, 0), coalesce(a.accuracy_pct, 0), a.last_calculated_at
        FROM cycles c LEFT JOIN cycle_aggregates a USING (cycle_number)
        """;

    public async Task<Fresh<List<TrackStats>>> TracksAsync(CancellationToken cancellationToken)
    {
        var (rows, asOf) = await QueryAsync($"SELECT {TrackColumns} FROM track_aggregates ORDER BY track_id", [], ReadTrack, cancellationToken);
        return new(rows, asOf);
    }

    /// <summary>Null when no attempt at the track has been aggregated yet.</summary>
    public async Task<Fresh<TrackStats>> TrackAsync(Guid trackId, CancellationToken cancellationToken)
    {
        var (rows, asOf) = await QueryAsync($"SELECT {TrackColumns} FROM track_aggregates WHERE track_id = $1", [trackId], ReadTrack, cancellationToken);
        return new(rows.SingleOrDefault(), asOf);
    }

    /// <summary>Every day of [from, to] in order, zero-filled; null when the track has no aggregates at all.</summary>
    public async Task<Fresh<List<TrackDayStats>>> TrackDaysAsync(Guid trackId, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var (rows, asOf) = await QueryAsync("""
            SELECT $1::uuid, d::date, coalesce(a.attempts_total, 0), coalesce(a.answers_total, 0), coalesce(a.correct_total, 0),
                   coalesce(a.accuracy_pct, 0), coalesce(a.avg_duration_sec, 0), a.last_calculated_at
            FROM generate_series($2::date, $3::date, interval '1 day') AS d
            LEFT JOIN track_daily_aggregates a ON a.track_id = $1 AND a.day = d::date
            WHERE EXISTS (SELECT FROM track_aggregates WHERE track_id = $1)
            ORDER BY d
            """, [trackId, from, to], r => new TrackDayStats(
                r.GetGuid(0), r.GetFieldValue<DateOnly>(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetFloat(5), r.GetFloat(6),
                NullableTimestamp(r, 7)), cancellationToken);
        return new(rows.Count == 0 ? null : rows, asOf);
    }

    /// <summary>A page of a track's questions in questionId order, after the cursor (the last questionId of the page before).</summary>
    public async Task<Fresh<List<QuestionStats>>> QuestionsAsync(Guid trackId, Guid? after, int limit, CancellationToken cancellationToken)
    {
        var sql = after is null
            ? $"SELECT {QuestionColumns} FROM question_aggregates WHERE track_id = $1 ORDER BY question_id LIMIT $2"
            : $"SELECT {QuestionColumns} FROM question_aggregates WHERE track_id = $1 AND question_id > $3 ORDER BY question_id LIMIT $2";
        object[] parameters = after is { } cursor ? [trackId, limit + 1, cursor] : [trackId, limit + 1];
        var (rows, asOf) = await QueryAsync(sql, parameters, r => new QuestionStats(
            r.GetGuid(0), r.GetGuid(1), r.GetInt64(2), r.GetInt64(3), r.GetFloat(4), r.GetFloat(5), r.GetFieldValue<DateTimeOffset>(6)), cancellationToken);
        if (rows.Count <= limit)
            return new(rows, asOf);
        rows.RemoveAt(limit);
        return new(rows, asOf, rows[^1].QuestionId.ToString());
    }

    /// <summary>The cycle whose [startsAt, endsAt) contains the instant; a cycle without applied events has zero totals.</summary>
    public async Task<Fresh<CycleStats>> CycleAtAsync(DateTimeOffset instant, CancellationToken cancellationToken)
    {
        var (rows, asOf) = await QueryAsync($"SELECT {CycleColumns} WHERE c.starts_at <= $1 AND $1 < c.ends_at", [instant.UtcDateTime], ReadCycle, cancellationToken);
        return new(rows.SingleOrDefault(), asOf);
    }

    public async Task<Fresh<CycleStats>> CycleAsync(int cycleNumber, CancellationToken cancellationToken)
    {
        var (rows, asOf) = await QueryAsync($"SELECT {CycleColumns} WHERE c.cycle_number = $1", [cycleNumber], ReadCycle, cancellationToken);
        return new(rows.SingleOrDefault(), asOf);
    }

    private static TrackStats ReadTrack(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetFloat(4), r.GetFloat(5), r.GetFieldValue<DateTimeOffset>(6));

    private static CycleStats ReadCycle(NpgsqlDataReader r) => new(
        r.GetInt32(0), r.GetFieldValue<DateTimeOffset>(1), r.GetFieldValue<DateTimeOffset>(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5),
        r.GetFloat(6), NullableTimestamp(r, 7));

    private static DateTimeOffset? NullableTimestamp(NpgsqlDataReader r, int ordinal) =>
        r.IsDBNull(ordinal) ? null : r.GetFieldValue<DateTimeOffset>(ordinal);

    private async Task<(List<T> Rows, DateTimeOffset? AsOf)> QueryAsync<T>(
        string sql, object[] parameters, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
    {
        var query = new NpgsqlBatchCommand(sql);
        foreach (var value in parameters)
            query.Parameters.Add(new NpgsqlParameter { Value = value });

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
                new NpgsqlBatchCommand("SELECT max(last_flush_at) FROM rollup_state"),
                query,
                new NpgsqlBatchCommand("COMMIT"),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var asOf = NullableTimestamp(reader, 0);
        await reader.NextResultAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
            rows.Add(map(reader));
        return (rows, asOf);
    }
}
