using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Telemetry.Aggregator.Reconciliation;
using Telemetry.Aggregator.Rollups;
using Telemetry.Database;
using Telemetry.EventIngestor.AnswerEvents;
using Telemetry.EventProcessing;
using Telemetry.ServiceDefaults;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.IntegrationTests;

public sealed class ReconciliationTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualClock _clock = new(Now);
    private TestDatabase _database = null!;
    private NpgsqlDataSource _ingestorRole = null!;
    private NpgsqlDataSource _aggregatorRole = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _ingestorRole = NpgsqlDataSource.Create(_database.ConnectionStringFor(DatabaseRoles.EventIngestor));
        _aggregatorRole = NpgsqlDataSource.Create(_database.ConnectionStringFor(DatabaseRoles.Aggregator));
        await new DailyPartitions(_ingestorRole, "answer_events", _clock).EnsureAsync(daysBack: 25, daysAhead: 2, CancellationToken.None);
        await new DailyPartitions(_aggregatorRole, "processed_events", _clock).EnsureAsync(daysBack: 25, daysAhead: 2, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _ingestorRole.DisposeAsync();
        await _aggregatorRole.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_clean_pipeline_reconciles_with_no_difference()
    {
        var events = AggregatorExactnessTests.RandomEvents(new Random(7), attempts: 300);
        await IngestAsync(events);
        await Rollups().ApplyAsync(events, CancellationToken.None);

        var report = await Reconciler().RunAsync(repair: false, CancellationToken.None);

        Assert.Empty(report.Differences);
        Assert.Equal(DateOnly.FromDateTime(Now.UtcDateTime).AddDays(-25), report.FirstDay);
        Assert.Equal(DateOnly.FromDateTime(Now.UtcDateTime).AddDays(-1), report.LastDay);
        Assert.Equal(1, await _database.ScalarAsync<long>("SELECT count(*) FROM audit_logs WHERE action = 'reconciliation_completed' AND (details->>'differences')::int = 0"));
    }

    [Fact]
    public async Task Injected_discrepancies_are_found_and_repair_makes_buckets_and_totals_equal_the_raw_events_without_double_counting_later()
    {
        var events = AggregatorExactnessTests.RandomEvents(new Random(11), attempts: 300).Where(e => e.CreatedAt < Now.AddDays(-1).Date).ToList();
        var lost = events.First(e => e.AnswerIndex == 0 && e.AnswerCount == 1 && e.CycleNumber is not null);
        await IngestAsync(events);
        await Rollups().ApplyAsync(events.Where(e => e != lost).ToList(), CancellationToken.None);
        var corrupted = await _database.ScalarAsync<string>("""
            UPDATE question_daily_aggregates SET correct_total = correct_total + 1
            WHERE (question_id, day) = (SELECT question_id, day FROM question_daily_aggregates WHERE question_id <> $1 ORDER BY question_id, day LIMIT 1)
            RETURNING question_id::text
            """, lost.QuestionId);

        var report = await Reconciler().RunAsync(repair: false, CancellationToken.None);

        var lostDay = DateOnly.FromDateTime(lost.CreatedAt.UtcDateTime);
        Assert.Equal(
            new[] { $"question:{corrupted}", $"question:{lost.QuestionId}:{lostDay}", $"track:{lost.TrackId}:{lostDay}", $"cycle:{lost.CycleNumber}:{lostDay}" }.Order(),
            report.Differences.Select(d => d.Key == corrupted ? $"question:{corrupted}" : $"{d.Scope}:{d.Key}:{d.Day}").Order());
        var missing = Assert.Single(report.Differences, d => d.Scope == "track");
        Assert.Equal((1L, 1L), (missing.Raw.Attempts - missing.Applied.Attempts, missing.Raw.Answers - missing.Applied.Answers));

        var repaired = await Reconciler().RunAsync(repair: true, CancellationToken.None);
        Assert.True(repaired.Repaired);
        Assert.Empty((await Reconciler().RunAsync(repair: false, CancellationToken.None)).Differences);
        Snapshot.AssertEquals(Snapshot.Recompute(events), await Snapshot.ReadAsync(_database));

        // The lost event turns up late (say, redelivered after an outage): the repair already counted it.
        Assert.Empty(await Rollups().ApplyAsync([lost], CancellationToken.None));
        Snapshot.AssertEquals(Snapshot.Recompute(events), await Snapshot.ReadAsync(_database));
    }

    [Fact]
    public async Task Days_that_have_not_settled_are_not_checked()
    {
        var today = AggregatorExactnessTests.RandomEvents(new Random(3), attempts: 20).Select(e => e with { CreatedAt = Now.AddMinutes(-5) }).ToList();
        await IngestAsync(today); // raw only: the aggregator has not caught up yet

        var report = await Reconciler().RunAsync(repair: false, CancellationToken.None);

        Assert.Empty(report.Differences);
    }

    private RollupWriter Rollups() => new(_aggregatorRole, _clock, new ServiceIdentity("aggregator", "test"));

    private Reconciler Reconciler() => new(
        _aggregatorRole, new AuditTrail(_aggregatorRole, new ServiceIdentity("aggregator", "test")),
        new ReconciliationOptions { SettleTime = TimeSpan.FromHours(1) }, _clock, NullLogger<Reconciler>.Instance);

    private async Task IngestAsync(IReadOnlyList<Contracts.AnswerSubmitted> events)
    {
        var writer = new AnswerEventWriter(_ingestorRole);
        foreach (var batch in events.Chunk(1000))
            await writer.WriteAsync(batch, CancellationToken.None);
    }
}
