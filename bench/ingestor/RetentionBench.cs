using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Telemetry.Database;
using Telemetry.EventProcessing;
using Telemetry.ServiceDefaults;
using Telemetry.Testing;

namespace Telemetry.Bench.Ingestor;

public sealed record RetentionTiming(long Rows, int Partitions, TimeSpan Drop, TimeSpan Delete, TimeSpan Vacuum);

public sealed record StorageSnapshot(int Partitions, DateOnly? FirstDay, DateOnly? LastDay, long Rows, DateOnly? OldestEventDay, long Bytes);

/// <summary>
/// Retention by dropping whole daily partitions (<see cref="PartitionRetention"/>, as the service runs it with its own
/// role) against DELETE of the same rows, each on freshly loaded data; and the README figure of storage before and
/// after the operators' `retention` command.
/// </summary>
public sealed class RetentionBench(TestDatabase database)
{
    private const int ExpiredDays = 5;
    private const int RetentionDays = 7;

    public async Task<RetentionTiming> DropVersusDeleteAsync(int rows, bool dropFirst)
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var firstExpired = today.AddDays(-RetentionDays - ExpiredDays);
        var cutoff = today.AddDays(-RetentionDays);

        async Task<TimeSpan> DropAsync()
        {
            await LoadAsync(firstExpired, rows);
            await using var ingestor = NpgsqlDataSource.Create(database.ConnectionStringFor(DatabaseRoles.EventIngestor));
            var retention = new PartitionRetention(ingestor, "answer_events", cleansAuditLog: false, new RetentionOptions { Days = RetentionDays },
                TimeProvider.System, new AuditTrail(ingestor, new ServiceIdentity("bench", "bench")), NullLogger<PartitionRetention>.Instance);
            var clock = Stopwatch.StartNew();
            var report = await retention.RunAsync(CancellationToken.None);
            var elapsed = clock.Elapsed;
            Expect(report.Dropped.Count == ExpiredDays && report.RowsRemoved == rows, $"the drop removed {report.Dropped.Count} partitions, {report.RowsRemoved} rows");
            return elapsed;
        }

        async Task<(TimeSpan Delete, TimeSpan Vacuum)> DeleteAsync()
        {
            await LoadAsync(firstExpired, rows);
            await using var connection = new NpgsqlConnection(database.AdminConnectionString);
            await connection.OpenAsync();
            var clock = Stopwatch.StartNew();
            await using (var delete = new NpgsqlCommand("DELETE FROM answer_events WHERE created_at < $1", connection))
            {
                delete.Parameters.AddWithValue(cutoff.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));
                var deleted = await delete.ExecuteNonQueryAsync();
                Expect(deleted == rows, $"DELETE removed {deleted} rows");
            }
            var deleteTime = clock.Elapsed;
            clock.Restart();
            await using (var vacuum = new NpgsqlCommand("VACUUM answer_events", connection))
                await vacuum.ExecuteNonQueryAsync();
            return (deleteTime, clock.Elapsed);
        }

        TimeSpan drop;
        (TimeSpan Delete, TimeSpan Vacuum) delete;
        if (dropFirst)
        {
            drop = await DropAsync();
            delete = await DeleteAsync();
        }
        else
        {
            delete = await DeleteAsync();
            drop = await DropAsync();
        }
        return new RetentionTiming(rows, ExpiredDays, drop, delete.Delete, delete.Vacuum);
    }

    /// <summary>
    /// Loads days × rowsPerDay events into the days before today, runs the ingestor's `retention` command
    /// (as an operator would, with ANSWER_EVENTS_RETENTION_DAYS) and returns the storage before and after.
    /// </summary>
    public async Task<(StorageSnapshot Before, StorageSnapshot After, string Command)> FigureAsync(int days, int rowsPerDay, int retentionDays, string rabbitMqUri)
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var first = today.AddDays(-(days - 1));
        await EnsurePartitionsAsync(first, today.AddDays(new PartitionOptions().DaysAhead));
        await InsertAsync(first, days, days * rowsPerDay);
        await AnalyzeAsync();
        var before = await SnapshotAsync();

        var dll = Path.Combine(RepoRoot(), "services", "event-ingestor", "bin", "Release", "net10.0", "Telemetry.EventIngestor.dll");
        var command = $"{RetentionOptions.RetentionDaysVariable}={retentionDays} dotnet {Path.GetRelativePath(RepoRoot(), dll)} retention";
        var start = new ProcessStartInfo("dotnet", [dll, "retention"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment[RetentionOptions.RetentionDaysVariable] = retentionDays.ToString();
        start.Environment["ConnectionStrings__Telemetry"] = database.ConnectionStringFor(DatabaseRoles.EventIngestor);
        start.Environment["ConnectionStrings__RabbitMq"] = rabbitMqUri;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill();
            throw new TimeoutException("the retention command did not finish in 2 minutes");
        }
        Expect(process.ExitCode == 0, $"the retention command failed ({process.ExitCode}): {await errors}{await output}");
        using var report = JsonDocument.Parse(await output);
        Expect(report.RootElement.GetProperty("dropped").GetArrayLength() == days - (retentionDays + 1), $"the retention command reported {await output}");

        await AnalyzeAsync();
        return (before, await SnapshotAsync(), command);
    }

    private async Task LoadAsync(DateOnly firstExpired, int rows)
    {
        await database.ExecuteAsync("TRUNCATE answer_events");
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        await EnsurePartitionsAsync(firstExpired, today.AddDays(1));
        await InsertAsync(firstExpired, ExpiredDays, rows);
        await InsertAsync(today.AddDays(-3), 4, rows / 10); // kept: recent days the DELETE must leave alone
        await AnalyzeAsync();
    }

    private Task EnsurePartitionsAsync(DateOnly from, DateOnly to) =>
        database.ScalarAsync<int>("SELECT ensure_daily_partitions('answer_events', $1, $2)", from, to);

    /// <summary>Rows spread evenly over the days from <paramref name="first"/>, across 20 tracks, as the ingestor would store them.</summary>
    private async Task InsertAsync(DateOnly first, int days, int rows)
    {
        await using var connection = new NpgsqlConnection(database.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"""
            INSERT INTO answer_events ({AnswerEventsCopy.Columns})
            SELECT gen_random_uuid(), gen_random_uuid(), '0x' || md5(i::text), ('00000000-0000-0000-0000-0000000000' || lpad((i % 20)::text, 2, '0'))::uuid,
                gen_random_uuid(), 'answer ' || (i % 4), i % 3 > 0, 6000, 30 + i % 600, 1 + i % 9, 'approved', NULLIF(i % 2, 0) * 7, i % 5, 5,
                ($1::date + (i % $3))::timestamp AT TIME ZONE 'UTC' + (i % 86400) * interval '1 second'
            FROM generate_series(1, $2) i
            """, connection);
        command.Parameters.AddWithValue(first);
        command.Parameters.AddWithValue(rows);
        command.Parameters.AddWithValue(days);
        command.CommandTimeout = 300;
        await command.ExecuteNonQueryAsync();
    }

    private Task AnalyzeAsync() => database.ExecuteAsync("ANALYZE answer_events");

    private async Task<StorageSnapshot> SnapshotAsync()
    {
        await using var connection = new NpgsqlConnection(database.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT count(*)::int, min(partition_day(c.relname)), max(partition_day(c.relname)),
                (SELECT count(*) FROM answer_events), (SELECT min(created_at)::date FROM answer_events),
                coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'answer_events'::regclass
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        DateOnly? Day(int column) => reader.IsDBNull(column) ? null : reader.GetFieldValue<DateOnly>(column);
        return new StorageSnapshot(reader.GetInt32(0), Day(1), Day(2), reader.GetInt64(3), Day(4), reader.GetInt64(5));
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Telemetry.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Telemetry.sln not found above " + AppContext.BaseDirectory);
    }

    private static void Expect(bool condition, string otherwise)
    {
        if (!condition)
            throw new InvalidOperationException(otherwise);
    }
}
