using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Telemetry.Database;
using Telemetry.EventProcessing;
using Telemetry.ServiceDefaults;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.IntegrationTests;

public sealed class RetentionTests : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private NpgsqlDataSource _ingestorRole = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _ingestorRole = NpgsqlDataSource.Create(_database.ConnectionStringFor(DatabaseRoles.EventIngestor));
    }

    public async Task DisposeAsync()
    {
        await _ingestorRole.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Before_any_partition_exists_events_are_not_refused_but_their_batch_is_retried()
    {
        var partitions = new DailyPartitions(_ingestorRole, "answer_events", TimeProvider.System);

        await Assert.ThrowsAsync<PartitionsNotReadyException>(async () => await partitions.RefusalAsync(DateTimeOffset.UtcNow, CancellationToken.None));

        await partitions.EnsureAsync(0, 1, CancellationToken.None);
        Assert.Null(await partitions.RefusalAsync(DateTimeOffset.UtcNow, CancellationToken.None));
    }

    [Fact]
    public async Task Over_200_simulated_days_at_most_retention_plus_one_days_remain_and_no_aggregate_is_touched()
    {
        const int retentionDays = 10;
        var clock = new ManualClock(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
        var partitions = new DailyPartitions(_ingestorRole, "answer_events", clock);
        var retention = Retention(clock, retentionDays);
        await _database.ExecuteAsync("""
            INSERT INTO track_aggregates VALUES ('00000000-0000-0000-0000-000000000001', 3, 9, 4, 300, DEFAULT, DEFAULT, now());
            INSERT INTO question_aggregates VALUES ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000001', 3, 2, 300, DEFAULT, DEFAULT, now());
            INSERT INTO cycle_aggregates VALUES (1, 3, 9, 4, 300, DEFAULT, DEFAULT, now());
            """);

        long inserted = 0, removed = 0;
        for (var day = 0; day < 200; day++)
        {
            await partitions.EnsureAsync(daysBack: 2, daysAhead: 3, CancellationToken.None);
            inserted += await InsertEventsAsync(clock.GetUtcNow(), count: 3);
            var report = await retention.RunAsync(CancellationToken.None);
            removed += report.RowsRemoved;

            var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
            var pastDays = await _database.ScalarAsync<int>(
                "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'answer_events'::regclass AND partition_day(c.relname) <= $1",
                today);
            Assert.InRange(pastDays, 1, retentionDays + 1);
            Assert.True(report.OldestRemainingDay >= today.AddDays(-retentionDays), $"day {day}: {report.OldestRemainingDay} is past the cutoff");
            clock.Advance(TimeSpan.FromDays(1));
        }

        Assert.Equal(inserted - removed, await _database.ScalarAsync<long>("SELECT count(*) FROM answer_events"));
        Assert.Equal((200 - (retentionDays + 1)) * 3, removed);
        Assert.Equal("3/9/4", await _database.ScalarAsync<string>("SELECT format('%s/%s/%s', attempts_total, answers_total, correct_total) FROM track_aggregates"));
        Assert.Equal("3/9/4", await _database.ScalarAsync<string>("SELECT format('%s/%s/%s', attempts_total, answers_total, correct_total) FROM cycle_aggregates"));
        Assert.Equal("3/2", await _database.ScalarAsync<string>("SELECT format('%s/%s', attempts_total, correct_total) FROM question_aggregates"));
        Assert.True(await _database.ScalarAsync<long>("SELECT count(*) FROM audit_logs WHERE action = 'retention_cleanup'") >= 189);
    }

    [Fact]
    public async Task Two_replicas_running_partition_creation_and_retention_at_once_do_not_collide()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
        var replicas = Enumerable.Range(0, 2).Select(_ => new DailyPartitions(_ingestorRole, "answer_events", clock)).ToArray();
        await Task.WhenAll(replicas.Select(p => p.EnsureAsync(daysBack: 20, daysAhead: 20, CancellationToken.None)));
        await InsertEventsAsync(clock.GetUtcNow().AddDays(-15), count: 50);

        clock.Advance(TimeSpan.FromDays(10));
        var reports = await Task.WhenAll(Retention(clock, 5).RunAsync(CancellationToken.None), Retention(clock, 5).RunAsync(CancellationToken.None));

        var dropped = reports.SelectMany(r => r.Dropped).ToList();
        Assert.Equal(dropped.Count, dropped.Select(d => d.Partition).Distinct().Count());
        Assert.Equal(25, dropped.Count); // 2026-02-09 .. 2026-03-05 are entirely older than 2026-03-06
        Assert.Equal(50, dropped.Sum(d => d.Rows));
        Assert.Equal(0, await _database.ScalarAsync<long>("SELECT count(*) FROM answer_events"));
        Assert.Equal("2026-03-06", await _database.ScalarAsync<string>("SELECT first_day::text FROM partition_days('answer_events')"));
    }

    private PartitionRetention Retention(TimeProvider clock, int days) => new(
        _ingestorRole, "answer_events", cleansAuditLog: true, new RetentionOptions { Days = days }, clock,
        new AuditTrail(_ingestorRole, new ServiceIdentity("event-ingestor", "test")), NullLogger<PartitionRetention>.Instance);

    private async Task<int> InsertEventsAsync(DateTimeOffset createdAt, int count)
    {
        await using var command = _ingestorRole.CreateCommand("""
            INSERT INTO answer_events (id, attempt_id, wallet_address, track_id, question_id, selected_answer, is_correct, score_basis_points,
                attempt_duration_sec, level_at_time, auto_decision, answer_index, answer_count, created_at)
            SELECT gen_random_uuid(), gen_random_uuid(), 'w', gen_random_uuid(), gen_random_uuid(), 'a', true, 10000, 1, 1, 'approved', 0, 1, $2
            FROM generate_series(1, $1)
            """);
        command.Parameters.AddWithValue(count);
        command.Parameters.AddWithValue(createdAt.UtcDateTime);
        return await command.ExecuteNonQueryAsync();
    }
}
