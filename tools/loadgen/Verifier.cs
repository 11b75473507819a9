using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Telemetry.Contracts;

namespace Telemetry.LoadGen;

public sealed record TableCheck(string Table, int ExpectedRows, int FoundRows, int Differing, IReadOnlyList<string> Examples)
{
    public bool Exact => Differing == 0 && ExpectedRows == FoundRows;
}

public sealed record Exactness(
    long ExpectedEvents, long FoundEvents, long MissingEvents, long UnexpectedEvents, long DuplicateEventIds,
    IReadOnlyList<TableCheck> Aggregates, IReadOnlyList<string> ApiChecks, IReadOnlyList<string> Examples)
{
    public bool Exact => MissingEvents == 0 && UnexpectedEvents == 0 && DuplicateEventIds == 0 && Aggregates.All(a => a.Exact) && ApiChecks.All(c => c.StartsWith("ok", StringComparison.Ordinal));
}

/// <summary>
/// Compares what the pipeline stored for this run's tracks with what the run knows it had accepted: every answer_events
/// row column by column (expected rows are copied into a temporary table and compared with EXCEPT ALL both ways), and
/// every aggregate row — per question, track and cycle, totals and daily buckets — exactly.
/// </summary>
public sealed class Verifier(NpgsqlDataSource database, HttpClient stats, string statsApiKey, string[] wallets, Guid[] trackIds, int[] cycleNumbers)
{
    private const string Columns = """
        id, attempt_id, wallet_address, track_id, question_id, selected_answer, is_correct, score_basis_points,
        attempt_duration_sec, level_at_time, auto_decision, cycle_number, answer_index, answer_count
        """;

    public async Task<Exactness> CheckAsync(IReadOnlyCollection<AcceptedAttempt> accepted)
    {
        var days = await DaysAsync(accepted);
        await using var connection = await database.OpenConnectionAsync();
        await using (var create = new NpgsqlCommand($"""
            CREATE TEMP TABLE expected_events (
                id uuid, attempt_id uuid, wallet_address text, track_id uuid, question_id uuid, selected_answer text, is_correct boolean,
                score_basis_points int, attempt_duration_sec int, level_at_time int, auto_decision text, cycle_number int,
                answer_index int, answer_count int)
            """, connection))
            await create.ExecuteNonQueryAsync();

        long expectedEvents = 0;
        await using (var copy = await connection.BeginBinaryImportAsync($"COPY expected_events ({Columns}) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var a in accepted)
                for (var i = 0; i < a.Attempt.Questions.Length; i++)
                {
                    var question = a.Attempt.Track.Questions[a.Attempt.Questions[i]];
                    await copy.StartRowAsync();
                    await copy.WriteAsync(AnswerEventId.For(a.Attempt.AttemptId, question), NpgsqlDbType.Uuid);
                    await copy.WriteAsync(a.Attempt.AttemptId, NpgsqlDbType.Uuid);
                    await copy.WriteAsync(wallets[a.Attempt.Wallet], NpgsqlDbType.Text);
                    await copy.WriteAsync(a.Attempt.Track.TrackId, NpgsqlDbType.Uuid);
                    await copy.WriteAsync(question, NpgsqlDbType.Uuid);
                    await copy.WriteAsync(a.Attempt.Selected[i], NpgsqlDbType.Text);
                    await copy.WriteAsync(a.Attempt.IsCorrect(i), NpgsqlDbType.Boolean);
                    await copy.WriteAsync((int)(a.Result.ScorePct * 100), NpgsqlDbType.Integer);
                    await copy.WriteAsync(a.Attempt.DurationSec, NpgsqlDbType.Integer);
                    await copy.WriteAsync(a.Result.LevelAtTime, NpgsqlDbType.Integer);
                    await copy.WriteAsync(a.Result.AutoDecision, NpgsqlDbType.Text);
                    if (a.Result.CycleNumber is { } cycle)
                        await copy.WriteAsync(cycle, NpgsqlDbType.Integer);
                    else
                        await copy.WriteNullAsync();
                    await copy.WriteAsync(i, NpgsqlDbType.Integer);
                    await copy.WriteAsync(a.Attempt.Questions.Length, NpgsqlDbType.Integer);
                    expectedEvents++;
                }
            await copy.CompleteAsync();
        }

        var actual = $"SELECT {Columns} FROM answer_events WHERE track_id = ANY($1)";
        var missing = await ScalarAsync(connection, $"SELECT count(*) FROM (SELECT {Columns} FROM expected_events EXCEPT ALL {actual}) d");
        var unexpected = await ScalarAsync(connection, $"SELECT count(*) FROM ({actual} EXCEPT ALL SELECT {Columns} FROM expected_events) d");
        var found = await ScalarAsync(connection, "SELECT count(*) FROM answer_events WHERE track_id = ANY($1)");
        var duplicates = await ScalarAsync(connection, "SELECT count(*) - count(DISTINCT id) FROM answer_events WHERE track_id = ANY($1)");
        var examples = new List<string>();
        if (missing > 0)
            examples.AddRange(await RowsAsync(connection, $"SELECT 'missing', * FROM (SELECT {Columns} FROM expected_events EXCEPT ALL {actual}) d LIMIT 5"));
        if (unexpected > 0)
            examples.AddRange(await RowsAsync(connection, $"SELECT 'unexpected', * FROM ({actual} EXCEPT ALL SELECT {Columns} FROM expected_events) d LIMIT 5"));

        var tables = new List<TableCheck>
        {
            Compare("question_aggregates", Expected(accepted, days, byDay: false, Questions),
                await ReadAsync(connection, "SELECT question_id::text || '/' || track_id::text, attempts_total, correct_total, duration_sum_sec FROM question_aggregates WHERE track_id = ANY($1)")),
            Compare("question_daily_aggregates", Expected(accepted, days, byDay: true, Questions),
                await ReadAsync(connection, "SELECT question_id::text || '/' || track_id::text || '@' || day::text, attempts_total, correct_total, duration_sum_sec FROM question_daily_aggregates WHERE track_id = ANY($1)")),
            Compare("track_aggregates", Expected(accepted, days, byDay: false, a => [(a.Attempt.Track.TrackId.ToString(), Group(a))]),
                await ReadAsync(connection, "SELECT track_id::text, attempts_total, answers_total, correct_total, duration_sum_sec FROM track_aggregates WHERE track_id = ANY($1)")),
            Compare("track_daily_aggregates", Expected(accepted, days, byDay: true, a => [(a.Attempt.Track.TrackId.ToString(), Group(a))]),
                await ReadAsync(connection, "SELECT track_id::text || '@' || day::text, attempts_total, answers_total, correct_total, duration_sum_sec FROM track_daily_aggregates WHERE track_id = ANY($1)")),
            Compare("cycle_aggregates", Expected(accepted, days, byDay: false, Cycle),
                await ReadAsync(connection, "SELECT cycle_number::text, attempts_total, answers_total, correct_total, duration_sum_sec FROM cycle_aggregates WHERE cycle_number = ANY($2)")),
            Compare("cycle_daily_aggregates", Expected(accepted, days, byDay: true, Cycle),
                await ReadAsync(connection, "SELECT cycle_number::text || '@' || day::text, attempts_total, answers_total, correct_total, duration_sum_sec FROM cycle_daily_aggregates WHERE cycle_number = ANY($2)")),
        };
        var api = await ApiChecksAsync(accepted);
        return new Exactness(expectedEvents, found, missing, unexpected, duplicates, tables, api, examples);
    }

    // Per question every answer is one attempt at it: attempts, correct, duration sum.
    private static IEnumerable<(string Key, long[] Values)> Questions(AcceptedAttempt a) =>
        a.Attempt.Questions.Select((q, i) => ($"{a.Attempt.Track.Questions[q]}/{a.Attempt.Track.TrackId}", new long[] { 1, a.Attempt.IsCorrect(i) ? 1 : 0, a.Attempt.DurationSec }));

    // Per track and cycle an attempt counts once: attempts, answers, correct, duration sum.
    private static long[] Group(AcceptedAttempt a) => [1, a.Attempt.Questions.Length, a.Attempt.CorrectCount, a.Attempt.DurationSec];

    private static IEnumerable<(string Key, long[] Values)> Cycle(AcceptedAttempt a) =>
        a.Result.CycleNumber is { } cycle ? [(cycle.ToString(), Group(a))] : [];

    private static Dictionary<string, long[]> Expected(IEnumerable<AcceptedAttempt> accepted, IReadOnlyDictionary<Guid, DateOnly> days, bool byDay,
        Func<AcceptedAttempt, IEnumerable<(string Key, long[] Values)>> rows)
    {
        var expected = new Dictionary<string, long[]>();
        foreach (var a in accepted)
            foreach (var (key, values) in rows(a))
            {
                var full = byDay ? $"{key}@{days[a.Attempt.AttemptId]:yyyy-MM-dd}" : key;
                if (!expected.TryGetValue(full, out var sums))
                    expected[full] = sums = new long[values.Length];
                for (var i = 0; i < values.Length; i++)
                    sums[i] += values[i];
            }
        return expected;
    }

    private static TableCheck Compare(string table, Dictionary<string, long[]> expected, Dictionary<string, long[]> found)
    {
        var examples = new List<string>();
        var differing = 0;
        foreach (var key in expected.Keys.Union(found.Keys))
        {
            var e = expected.GetValueOrDefault(key);
            var f = found.GetValueOrDefault(key);
            if (e is not null && f is not null && e.SequenceEqual(f))
                continue;
            differing++;
            if (examples.Count < 5)
                examples.Add($"{table} {key}: expected [{(e is null ? "no row" : string.Join(", ", e))}], found [{(f is null ? "no row" : string.Join(", ", f))}]");
        }
        return new TableCheck(table, expected.Count, found.Count, differing, examples);
    }

    /// <summary>
    /// The UTC day of each attempt's createdAt, which the API stamps between the first send and the first 202: known
    /// from that window unless it straddles midnight, then read from the attempts table.
    /// </summary>
    private async Task<Dictionary<Guid, DateOnly>> DaysAsync(IReadOnlyCollection<AcceptedAttempt> accepted)
    {
        var days = new Dictionary<Guid, DateOnly>();
        var unsure = new List<Guid>();
        foreach (var a in accepted)
        {
            var first = DateOnly.FromDateTime(a.FirstSentAt.UtcDateTime);
            if (first == DateOnly.FromDateTime(a.AcceptedAt.UtcDateTime))
                days[a.Attempt.AttemptId] = first;
            else
                unsure.Add(a.Attempt.AttemptId);
        }
        if (unsure.Count > 0)
        {
            await using var command = database.CreateCommand("SELECT attempt_id, created_at FROM attempts WHERE attempt_id = ANY($1)");
            command.Parameters.AddWithValue(unsure.ToArray());
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                days[reader.GetGuid(0)] = DateOnly.FromDateTime(reader.GetFieldValue<DateTimeOffset>(1).UtcDateTime);
        }
        return days;
    }

    /// <summary>The dashboard's view: GET /api/stats/tracks for the run's tracks, and the current cycle if it is the run's.</summary>
    private async Task<List<string>> ApiChecksAsync(IReadOnlyCollection<AcceptedAttempt> accepted)
    {
        var checks = new List<string>();
        using var tracksJson = JsonDocument.Parse(await GetAsync("api/stats/tracks"));
        var served = tracksJson.RootElement.EnumerateArray().ToDictionary(t => t.GetProperty("trackId").GetGuid());
        var wrong = new List<string>();
        foreach (var group in accepted.GroupBy(a => a.Attempt.Track.TrackId))
        {
            long[] expected = [group.Count(), group.Sum(a => a.Attempt.Questions.Length), group.Sum(a => a.Attempt.CorrectCount)];
            long[] got = served.TryGetValue(group.Key, out var t)
                ? [t.GetProperty("attemptsTotal").GetInt64(), t.GetProperty("answersTotal").GetInt64(), t.GetProperty("correctTotal").GetInt64()]
                : [];
            if (!expected.SequenceEqual(got))
                wrong.Add($"{group.Key}: expected {string.Join('/', expected)}, served {string.Join('/', got)}");
        }
        checks.Add(wrong.Count == 0
            ? $"ok: GET /api/stats/tracks serves exactly the attempts/answers/correct sent for all {trackIds.Length} tracks"
            : $"MISMATCH: GET /api/stats/tracks: {string.Join("; ", wrong.Take(3))}");

        using var cycleJson = JsonDocument.Parse(await GetAsync("api/stats/cycle/current"));
        if (cycleJson.RootElement.TryGetProperty("cycleNumber", out var number) && cycleNumbers.Contains(number.GetInt32()))
        {
            var mine = accepted.Where(a => a.Result.CycleNumber == number.GetInt32()).ToList();
            long[] expected = [mine.Count, mine.Sum(a => a.Attempt.Questions.Length), mine.Sum(a => a.Attempt.CorrectCount)];
            long[] got = [cycleJson.RootElement.GetProperty("attemptsTotal").GetInt64(), cycleJson.RootElement.GetProperty("answersTotal").GetInt64(),
                cycleJson.RootElement.GetProperty("correctTotal").GetInt64()];
            checks.Add(expected.SequenceEqual(got)
                ? $"ok: GET /api/stats/cycle/current (cycle {number.GetInt32()}) serves exactly {string.Join('/', expected)} attempts/answers/correct"
                : $"MISMATCH: GET /api/stats/cycle/current (cycle {number.GetInt32()}): expected {string.Join('/', expected)}, served {string.Join('/', got)}");
        }
        return checks;
    }

    private async Task<string> GetAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Api-Key", statsApiKey);
        using var response = await stats.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }

    private async Task<long> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = Command(connection, sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    private async Task<List<string>> RowsAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = Command(connection, sql);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : reader.GetValue(i).ToString())));
        return rows;
    }

    private async Task<Dictionary<string, long[]>> ReadAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = Command(connection, sql);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, long[]>();
        while (await reader.ReadAsync())
            rows[reader.GetString(0)] = Enumerable.Range(1, reader.FieldCount - 1).Select(reader.GetInt64).ToArray();
        return rows;
    }

    private NpgsqlCommand Command(NpgsqlConnection connection, string sql)
    {
        var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 };
        command.Parameters.AddWithValue(trackIds);
        if (sql.Contains("$2"))
            command.Parameters.AddWithValue(cycleNumbers);
        return command;
    }
}
