using System.Diagnostics;
using Npgsql;
using Telemetry.Database;
using Telemetry.EventProcessing;
using Telemetry.ServiceDefaults;
using Telemetry.Testing;
using Telemetry.Testing.Bench;

namespace Telemetry.Bench.Aggregator;

/// <summary>
/// bench/run.sh aggregator: the aggregator's drain rate of a pre-loaded backlog against the database's own limit (one
/// SQL rollup of the same events), where the time goes (bare consumer, RollupWriter alone, ledger), and freshness at
/// half the drain rate. Progress goes to stderr, the Markdown report to stdout.
/// </summary>
public static class Program
{
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(5);

    public static async Task<int> Main(string[] args)
    {
        if (CommandLine.ParseOrExit(args, BenchOptions.Usage, BenchOptions.Parse, out var exitCode) is not { } options)
            return exitCode;

        // WebApplicationFactory reads MvcTestingAppManifest.json (the aggregator's content root) from the working directory.
        Directory.SetCurrentDirectory(AppContext.BaseDirectory);
        var clock = Stopwatch.StartNew();
        var report = new Report(options);
        await using var database = await TestDatabase.CreateAsync();
        await using var broker = await TestBroker.CreateAsync();
        await using var admin = NpgsqlDataSource.Create(database.AdminConnectionString);
        await using var aggregatorRole = NpgsqlDataSource.Create(database.ConnectionStringFor(DatabaseRoles.Aggregator));
        var daysAhead = new PartitionOptions().DaysAhead;
        await new DailyPartitions(admin, "answer_events", TimeProvider.System).EnsureAsync(options.Days + 1, daysAhead, CancellationToken.None);
        await new DailyPartitions(aggregatorRole, "processed_events", TimeProvider.System).EnsureAsync(options.Days + 1, daysAhead, CancellationToken.None);
        await using var raw = await RawBroker.ConnectAsync(broker.AmqpUri, "aggregator bench");
        // Only the aggregator consumes here: the ingestor's copy of every event would just pile up.
        await raw.DeleteQueueAsync(BrokerTopology.IngestorQueue);

        var workload = new Workload(seed: 20261122);
        Step($"generating {options.Events:N0} events over {options.Days} days");
        var events = workload.Backlog(options.Events, options.Days, DateTimeOffset.UtcNow);
        var bodies = events.Select(Workload.Envelope).ToArray();
        var diagnostic = Math.Min(options.DiagnosticEvents, events.Count);
        Step("binary COPY into answer_events and the reference SQL rollup (untimed)");
        var sql = new SqlRollup(database);
        await sql.PrepareAsync(events);
        await sql.RollupAsync();

        var settings = new Dictionary<string, string?>(options.AggregatorSettings)
        {
            ["ConnectionStrings:Telemetry"] = database.ConnectionStringFor(DatabaseRoles.Aggregator),
            ["ConnectionStrings:RabbitMq"] = broker.AmqpUri,
        };
        ServiceHost<Telemetry.Aggregator.Program> Host() => new(settings);
        var drains = new Drains(raw, broker.Address, admin, options.Aggregator);
        Task Reset() => database.ExecuteAsync(SqlRollup.AggregatorState);

        var backlogParts = new[] { "drain", "bare", "raw", "writer", "sql" }.Where(options.Parts.Contains).ToList();
        for (var round = 1; round <= options.Rounds && backlogParts.Count > 0; round++)
        {
            Step($"round {round}/{options.Rounds}");
            // Alternate the order, so neither side always runs on a warmer (or busier) machine.
            foreach (var part in round % 2 == 1 ? backlogParts : Enumerable.Reverse(backlogParts))
            {
                switch (part)
                {
                    case "drain":
                        await Reset();
                        await LoadAsync(raw, bodies, "aggregator drain");
                        var drain = await drains.AggregatorAsync(Host, events.Count);
                        Step($"  aggregator: {drain.Rate:N0} events/s ({drain.Draining.TotalSeconds:N1}s draining, {drain.Wall.TotalSeconds:N1}s from host start)");
                        Step($"    {drain.FlushSummary(options.Aggregator.MessageLimit)}");
                        await VerifyAsync(database, sql, raw, events.Count, "the aggregator");
                        report.Add(Report.Drain, drain.Rate);
                        report.Add(Report.DrainWall, drain.Wall.TotalSeconds);
                        report.Flushes.Add(drain.FlushSummary(options.Aggregator.MessageLimit));
                        break;
                    case "bare":
                        report.Add(Report.Bare, await ConsumerRateAsync(raw, bodies[..diagnostic], "bare consumer", drains.BareAsync));
                        break;
                    case "raw":
                        report.Add(Report.Raw, await ConsumerRateAsync(raw, bodies[..diagnostic], "raw consumer", drains.RawAsync));
                        break;
                    case "writer":
                        await Reset();
                        var writer = await Drains.WriterAsync(aggregatorRole, events[..diagnostic], options.Aggregator.MessageLimit);
                        Step($"  RollupWriter alone: {diagnostic / writer.TotalSeconds:N0} events/s");
                        await VerifyAsync(database, diagnostic == events.Count ? sql : null, raw, diagnostic, "RollupWriter");
                        report.Add(Report.Writer, diagnostic / writer.TotalSeconds);
                        break;
                    default:
                        var rollup = await sql.RollupAsync();
                        var ledger = await sql.LedgerAsync();
                        Step($"  SQL rollup: {events.Count / rollup.TotalSeconds:N0} events/s ({rollup.TotalMilliseconds:N0} ms); ledger {events.Count / ledger.TotalSeconds:N0} events/s");
                        report.Add(Report.Sql, events.Count / rollup.TotalSeconds);
                        report.Add(Report.Ledger, events.Count / ledger.TotalSeconds);
                        report.Add(Report.SqlAndLedger, events.Count / (rollup + ledger).TotalSeconds);
                        break;
                }
            }
        }

        if (options.Parts.Contains("freshness"))
        {
            var rate = options.FreshnessRate > 0 ? options.FreshnessRate : report.Median(Report.Drain) / 2 ?? 2000;
            Step($"freshness: {Warmup.TotalSeconds:N0}s warm-up + {options.FreshnessSeconds}s at {rate:N0} events/s");
            await Reset();
            await raw.PurgeAsync(BrokerTopology.AggregatorQueue);
            await using var host = Host();
            await host.WaitReadyAsync();
            report.Freshness = await new Freshness(raw, admin, workload).MeasureAsync(rate, options.MarkersPerSecond, Warmup, TimeSpan.FromSeconds(options.FreshnessSeconds));
            Step($"  p50 {report.Freshness.Percentile(50).TotalMilliseconds:N0} ms, p99 {report.Freshness.Percentile(99).TotalMilliseconds:N0} ms");
        }

        report.Print();
        Step($"done in {clock.Elapsed.TotalSeconds:N0}s");
        return 0;
    }

    private static async Task LoadAsync(RawBroker raw, IReadOnlyList<byte[]> bodies, string forWhat)
    {
        await raw.PurgeAsync(BrokerTopology.AggregatorQueue);
        Step($"  loading the backlog for the {forWhat}");
        await raw.LoadAsync(bodies, RawBroker.AnswerSubmittedExchange, "", BrokerTopology.AggregatorQueue);
    }

    /// <summary>
    /// Loads the bodies, drains them with a consumer that does not write, and returns its messages per second. Such a
    /// consumer counts a message when it sees it, so the acks of its last batch may still be in flight when it stops
    /// (those messages go back to the queue, which the next load purges).
    /// </summary>
    private static async Task<double> ConsumerRateAsync(RawBroker raw, byte[][] bodies, string consumer, Func<int, Task<DrainResult>> drain)
    {
        await LoadAsync(raw, bodies, consumer);
        var result = await drain(bodies.Length);
        var requeued = await raw.ReadyAsync(BrokerTopology.AggregatorQueue);
        Step($"  {consumer}: {result.Rate:N0} msg/s{(requeued > 0 ? $" ({requeued:N0} unacked at its stop, requeued)" : "")}");
        return result.Rate;
    }

    /// <summary>
    /// Every event applied once: the queue is empty, the ledger holds each id, the tracks count every answer, and (for the
    /// whole backlog) every aggregate row equals the SQL rollup's.
    /// </summary>
    private static async Task VerifyAsync(TestDatabase database, SqlRollup? sql, RawBroker raw, int events, string who)
    {
        Expect(await raw.ReadyAsync(BrokerTopology.AggregatorQueue) == 0, $"{who} left messages in the queue");
        var answers = await database.ScalarAsync<long>("SELECT coalesce(sum(answers_total), 0)::bigint FROM track_aggregates");
        Expect(answers == events, $"{who}: the track aggregates count {answers:N0} answers of {events:N0} events sent");
        var ledger = await database.ScalarAsync<long>("SELECT count(*) FROM processed_events");
        Expect(ledger == events, $"{who}: the ledger holds {ledger:N0} of {events:N0} event ids");
        var differences = sql is null ? [] : await sql.DifferencesAsync();
        Expect(differences.Count == 0, $"{who}'s aggregates differ from the SQL rollup: {string.Join("; ", differences)}");
    }

    private static void Step(string message) => Console.Error.WriteLine($"[bench] {message}");

    private static void Expect(bool condition, string otherwise)
    {
        if (!condition)
            throw new InvalidOperationException(otherwise);
    }
}
