using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Telemetry.Aggregator.Rollups;
using Telemetry.Contracts;
using Telemetry.Database;
using Telemetry.EventProcessing;
using Telemetry.ServiceDefaults;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.IntegrationTests;

/// <summary>
/// Exactly-once rollups against real PostgreSQL: the aggregator's transaction is run directly (as many concurrent
/// "replicas" as wanted), and every total and daily bucket is compared with a recomputation written independently.
/// </summary>
public sealed class AggregatorExactnessTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private TestDatabase _database = null!;
    private NpgsqlDataSource _aggregatorRole = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _aggregatorRole = NpgsqlDataSource.Create(_database.ConnectionStringFor(DatabaseRoles.Aggregator));
        await new DailyPartitions(_aggregatorRole, "processed_events", new ManualClock(Now)).EnsureAsync(daysBack: 30, daysAhead: 2, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _aggregatorRole.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_batch_applied_again_after_a_crash_between_commit_and_ack_changes_nothing()
    {
        var events = RandomEvents(new Random(1), attempts: 50);
        var writer = Writer("a");

        var first = await writer.ApplyAsync(events, CancellationToken.None);
        var snapshot = await Snapshot.ReadAsync(_database);
        var redelivered = await writer.ApplyAsync(events, CancellationToken.None);

        Assert.Equal(events.Count, first.Count);
        Assert.Empty(redelivered);
        Assert.Equal(snapshot, await Snapshot.ReadAsync(_database));
        Snapshot.AssertEquals(Snapshot.Recompute(events), snapshot);
    }

    [Fact]
    public async Task A_randomized_100k_events_with_duplicates_reordering_and_three_concurrent_replicas_equal_a_recomputation()
    {
        var random = new Random(20261122);
        var events = RandomEvents(random, attempts: 33_000); // ≈ 100k answers
        Assert.True(events.Count >= 100_000, $"only {events.Count} events");
        // Every event delivered at least once, a fifth of them twice, all shuffled, then split over three replicas.
        var deliveries = events.Concat(events.Where(_ => random.Next(5) == 0)).OrderBy(_ => random.Next()).ToList();
        var replicas = new[] { Writer("r1"), Writer("r2"), Writer("r3") };

        await Task.WhenAll(deliveries.Chunk(1000).Select((batch, i) => (batch, i)).GroupBy(x => x.i % replicas.Length)
            .Select(group => Task.Run(async () =>
            {
                foreach (var (batch, _) in group)
                    await replicas[group.Key].ApplyAsync(batch, CancellationToken.None);
            })));

        Snapshot.AssertEquals(Snapshot.Recompute(events), await Snapshot.ReadAsync(_database));
        Assert.Equal(events.Count, await _database.ScalarAsync<long>("SELECT count(*) FROM processed_events"));
        Assert.Equal(events.Count, await _database.ScalarAsync<long>("SELECT sum(events_applied) FROM rollup_state"));
    }

    private RollupWriter Writer(string instance) => new(_aggregatorRole, new ManualClock(Now), new ServiceIdentity("aggregator", instance));

    /// <summary>Whole attempts over many tracks, questions, wallets, cycles (or none) and the last 20 days.</summary>
    public static List<AnswerSubmitted> RandomEvents(Random random, int attempts)
    {
        var tracks = Enumerable.Range(0, 12).Select(_ => (Id: Guid.NewGuid(), Questions: Enumerable.Range(0, random.Next(3, 9)).Select(_ => Guid.NewGuid()).ToArray())).ToArray();
        var events = new List<AnswerSubmitted>();
        for (var i = 0; i < attempts; i++)
        {
            var track = tracks[random.Next(tracks.Length)];
            var answered = track.Questions.OrderBy(_ => random.Next()).Take(random.Next(1, track.Questions.Length + 1)).ToList();
            events.AddRange(SampleEvents.Attempt(
                track.Id, answered.Select(q => (q, random.Next(3) > 0)).ToList(),
                durationSec: random.Next(5, 900),
                cycleNumber: random.Next(4) == 0 ? null : random.Next(1, 4),
                createdAt: Now.AddDays(-random.Next(0, 20)).AddSeconds(-random.Next(0, 86_400)),
                wallet: $"0x{random.Next(500):x4}"));
        }
        return events;
    }
}

/// <summary>Every aggregate row, totals and daily buckets, as comparable text keyed by table and key.</summary>
public sealed record Snapshot(IReadOnlyDictionary<string, string> Rows)
{
    public bool Equals(Snapshot? other) => other is not null && Rows.Count == other.Rows.Count && Rows.All(r => other.Rows.TryGetValue(r.Key, out var v) && v == r.Value);
    public override int GetHashCode() => Rows.Count;

    public static async Task<Snapshot> ReadAsync(TestDatabase database)
    {
        var rows = new Dictionary<string, string>();
        await using var connection = new NpgsqlConnection(database.AdminConnectionString);
        await connection.OpenAsync();
        foreach (var sql in new[]
        {
            "SELECT 'q:' || question_id || ':' || track_id, format('%s/%s/%s', attempts_total, correct_total, duration_sum_sec) FROM question_aggregates",
            "SELECT 'qd:' || question_id || ':' || day || ':' || track_id, format('%s/%s/%s', attempts_total, correct_total, duration_sum_sec) FROM question_daily_aggregates",
            "SELECT 't:' || track_id, format('%s/%s/%s/%s', attempts_total, answers_total, correct_total, duration_sum_sec) FROM track_aggregates",
            "SELECT 'td:' || track_id || ':' || day, format('%s/%s/%s/%s', attempts_total, answers_total, correct_total, duration_sum_sec) FROM track_daily_aggregates",
            "SELECT 'c:' || cycle_number, format('%s/%s/%s/%s', attempts_total, answers_total, correct_total, duration_sum_sec) FROM cycle_aggregates",
            "SELECT 'cd:' || cycle_number || ':' || day, format('%s/%s/%s/%s', attempts_total, answers_total, correct_total, duration_sum_sec) FROM cycle_daily_aggregates",
        })
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                rows.Add(reader.GetString(0), reader.GetString(1));
        }
        return new Snapshot(rows);
    }

    /// <summary>The expected aggregates, written independently of the aggregator: attempts are distinct attempt ids.</summary>
    public static Snapshot Recompute(IReadOnlyCollection<AnswerSubmitted> events)
    {
        var rows = new Dictionary<string, string>();
        static string Day(AnswerSubmitted e) => e.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd");
        foreach (var g in events.GroupBy(e => (e.QuestionId, e.TrackId)))
            rows[$"q:{g.Key.QuestionId}:{g.Key.TrackId}"] = $"{g.Count()}/{g.Count(e => e.IsCorrect)}/{g.Sum(e => (long)e.AttemptDurationSec)}";
        foreach (var g in events.GroupBy(e => (e.QuestionId, Day: Day(e), e.TrackId)))
            rows[$"qd:{g.Key.QuestionId}:{g.Key.Day}:{g.Key.TrackId}"] = $"{g.Count()}/{g.Count(e => e.IsCorrect)}/{g.Sum(e => (long)e.AttemptDurationSec)}";
        void Groups(string prefix, IEnumerable<IGrouping<string, AnswerSubmitted>> groups)
        {
            foreach (var g in groups)
            {
                var attempts = g.DistinctBy(e => e.AttemptId).ToList();
                rows[$"{prefix}:{g.Key}"] = $"{attempts.Count}/{g.Count()}/{g.Count(e => e.IsCorrect)}/{attempts.Sum(e => (long)e.AttemptDurationSec)}";
            }
        }
        Groups("t", events.GroupBy(e => e.TrackId.ToString()));
        Groups("td", events.GroupBy(e => $"{e.TrackId}:{Day(e)}"));
        var inCycles = events.Where(e => e.CycleNumber is not null).ToList();
        Groups("c", inCycles.GroupBy(e => e.CycleNumber!.Value.ToString()));
        Groups("cd", inCycles.GroupBy(e => $"{e.CycleNumber}:{Day(e)}"));
        return new Snapshot(rows);
    }

    public static void AssertEquals(Snapshot expected, Snapshot actual)
    {
        var missing = expected.Rows.Where(r => !actual.Rows.ContainsKey(r.Key)).Take(5).ToList();
        var extra = actual.Rows.Where(r => !expected.Rows.ContainsKey(r.Key)).Take(5).ToList();
        var wrong = expected.Rows.Where(r => actual.Rows.TryGetValue(r.Key, out var v) && v != r.Value).Take(5)
            .Select(r => $"{r.Key}: expected {r.Value}, got {actual.Rows[r.Key]}").ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0 && wrong.Count == 0,
            $"{expected.Rows.Count} expected rows, {actual.Rows.Count} actual; missing {string.Join(", ", missing)}; extra {string.Join(", ", extra)}; wrong {string.Join("; ", wrong)}");
    }
}
