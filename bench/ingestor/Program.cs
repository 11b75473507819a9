using System.Diagnostics;
using Npgsql;
using Telemetry.Database;
using Telemetry.EventProcessing;
using Telemetry.ServiceDefaults;
using Telemetry.Testing;
using Telemetry.Testing.Bench;

namespace Telemetry.Bench.Ingestor;

/// <summary>
/// bench/run.sh ingestor: the event ingestor's drain rate against bare MassTransit consumption and raw COPY of the same
/// backlog, the two idempotent write paths, retention by partition drop against DELETE, and the README storage figure.
/// Progress goes to stderr, the Markdown report to stdout.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (CommandLine.ParseOrExit(args, BenchOptions.Usage, BenchOptions.Parse, out var exitCode) is not { } options)
            return exitCode;

        var clock = Stopwatch.StartNew();
        var report = new Report();
        if (options.Parts.Overlaps(["ingestor", "bare", "batch", "writes", "retention"]))
            await MeasureAsync(options, report);
        if (options.Parts.Contains("figure"))
            await FigureAsync(options, report);
        report.Print(options);
        Console.Error.WriteLine($"[bench] done in {clock.Elapsed.TotalSeconds:N0}s");
        return 0;
    }

    private static async Task MeasureAsync(BenchOptions options, Report report)
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var broker = await TestBroker.CreateAsync();
        await using var ingestorRole = NpgsqlDataSource.Create(database.ConnectionStringFor(DatabaseRoles.EventIngestor));
        await new DailyPartitions(ingestorRole, "answer_events", TimeProvider.System).EnsureAsync(2, new PartitionOptions().DaysAhead, CancellationToken.None);

        Step($"generating and serializing {options.Messages:N0} events");
        var backlog = Backlog.Create(options.Messages);
        await using var raw = await RawBroker.ConnectAsync(broker.AmqpUri, "ingestor bench");
        var cpu = await CpuMeter.CreateAsync();
        var drains = new Drains(backlog, raw, broker.Address, options.Ingestor, cpu);
        var settings = new Dictionary<string, string?>(options.IngestorSettings())
        {
            ["ConnectionStrings:Telemetry"] = database.ConnectionStringFor(DatabaseRoles.EventIngestor),
            ["ConnectionStrings:RabbitMq"] = broker.AmqpUri,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        Task Truncate() => database.ExecuteAsync("TRUNCATE answer_events");
        Task<long> Rows() => database.ScalarAsync<long>("SELECT count(*) FROM answer_events");
        Task<long> Flushes() => database.ScalarAsync<long>(
            $"SELECT coalesce(sum((details->>'flushes')::bigint), 0) FROM audit_logs WHERE action = '{AuditActions.AnswerEventsLogged}'");
        var writes = new WritePaths(ingestorRole, Truncate);
        var batch = options.Ingestor.MessageLimit;

        for (var round = 1; round <= options.Rounds; round++)
        {
            Step($"round {round}/{options.Rounds}");
            // Alternate the order, so neither side always runs on a warmer machine.
            var ingestorFirst = round % 2 == 1;
            foreach (var which in (ingestorFirst ? new[] { "ingestor", "bare", "batch" } : ["bare", "batch", "ingestor"]).Where(options.Parts.Contains))
            {
                await Truncate();
                await raw.PurgeAsync(BrokerTopology.IngestorQueue);
                Step($"  loading the backlog for the {which} drain");
                await raw.LoadAsync(backlog.Bodies, "", BrokerTopology.IngestorQueue, BrokerTopology.IngestorQueue);
                Step($"  draining with the {which} consumer");
                var flushesBefore = await Flushes();
                var result = which switch
                {
                    "ingestor" => await drains.IngestorAsync(settings, Rows),
                    "bare" => await drains.BareAsync(),
                    _ => await drains.BareBatchAsync(),
                };
                var perThousand = result.Cpu.Total.TotalMilliseconds * 1000 / result.Messages;
                Step($"    {result.Rate:N0} msg/s (wall {result.Wall.TotalSeconds:N1}s from start); CPU {perThousand:N0} ms per 1,000 "
                     + $"(.NET {result.Cpu.Bench.TotalSeconds:N1}s, PostgreSQL {result.Cpu.Postgres.TotalSeconds:N1}s, RabbitMQ {result.Cpu.RabbitMq.TotalSeconds:N1}s)");
                report.Add(which switch { "ingestor" => Report.IngestorDrain, "bare" => Report.BareConsume, _ => Report.BareBatchConsume }, result.Rate);
                report.AddCpu(which switch { "ingestor" => Report.IngestorCpu, "bare" => Report.BareCpu, _ => Report.BareBatchCpu }, result.Cpu, result.Messages);
                if (which == "ingestor")
                {
                    report.Add(Report.IngestorWall, result.Wall.TotalSeconds);
                    var flushes = await Flushes() - flushesBefore;
                    report.Add(Report.IngestorBatch, (double)result.Messages / flushes);
                    Step($"    {flushes} batches, {result.Messages / flushes:N0} events on average");
                    Expect(await raw.ReadyAsync(BrokerTopology.IngestorQueue) == 0, "messages were left unacked in the ingestor queue");
                    Expect(await raw.ReadyIfExistsAsync(BrokerTopology.IngestorQueue + "_error") == 0, "the ingestor dead-lettered valid events");
                }
            }

            var paths = round % 2 == 1 ? new[] { "unnest", "staging", "kept", "copy" } : ["copy", "kept", "staging", "unnest"];
            if (options.Parts.Contains("writes"))
                Step("  write paths, one connection, batches of " + batch);
            foreach (var path in paths.Where(_ => options.Parts.Contains("writes")))
            {
                var rate = path switch
                {
                    "unnest" => await writes.UnnestAsync(backlog.Events, batch),
                    "staging" => await writes.StagingAsync(backlog.Events, batch),
                    "kept" => await writes.KeptStagingAsync(backlog.Events, batch),
                    _ => await writes.CopyAsync(backlog.Events),
                };
                Expect(await Rows() == backlog.Events.Count, $"the {path} path stored {await Rows()} rows");
                Step($"    {path}: {rate:N0} rows/s");
                report.Add(path switch { "unnest" => Report.Unnest, "staging" => Report.Staging, "kept" => Report.KeptStaging, _ => Report.Copy }, rate);
            }

            if (!options.Parts.Contains("retention"))
                continue;
            Step($"  retention: drop vs DELETE of {options.RetentionRows:N0} rows");
            var timing = await new RetentionBench(database).DropVersusDeleteAsync(options.RetentionRows, dropFirst: round % 2 == 1);
            Step($"    drop {timing.Drop.TotalMilliseconds:N0} ms, DELETE {timing.Delete.TotalMilliseconds:N0} ms (+ VACUUM {timing.Vacuum.TotalMilliseconds:N0} ms)");
            report.Add(Report.Drop, timing.Drop.TotalMilliseconds);
            report.Add(Report.Delete, timing.Delete.TotalMilliseconds);
            report.Add(Report.DeleteVacuum, (timing.Delete + timing.Vacuum).TotalMilliseconds);
        }
    }

    private static async Task FigureAsync(BenchOptions options, Report report)
    {
        Step($"retention figure: {options.FigureDays} days of {options.FigureRowsPerDay:N0} events, ANSWER_EVENTS_RETENTION_DAYS={options.RetentionDays}");
        await using var database = await TestDatabase.CreateAsync();
        report.Figure = await new RetentionBench(database).FigureAsync(options.FigureDays, options.FigureRowsPerDay, options.RetentionDays, TestServers.RabbitMq);
    }

    private static void Step(string message) => Console.Error.WriteLine($"[bench] {message}");

    private static void Expect(bool condition, string otherwise)
    {
        if (!condition)
            throw new InvalidOperationException(otherwise);
    }
}
