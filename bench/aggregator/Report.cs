using Telemetry.ServiceDefaults;

namespace Telemetry.Bench.Aggregator;

/// <summary>Per-round samples, their medians and ratios, and the freshness percentiles, printed as Markdown.</summary>
public sealed class Report(BenchOptions options)
{
    public const string Drain = "(a) aggregator drain: first dequeue → every event applied";
    public const string DrainWall = "(a) aggregator wall time: host start → every event applied";
    public const string Bare = "(b) bare MassTransit batch consumer, ack only, same endpoint settings";
    public const string Raw = "(b0) plain RabbitMQ.Client consumer: deserialize, one multiple-ack per batch";
    public const string Writer = "(c) RollupWriter.ApplyAsync directly, no broker, one batch at a time";
    public const string Sql = "(d) SQL rollup: INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE, 6 tables";
    public const string Ledger = "(e) ledger: INSERT INTO processed_events SELECT … ON CONFLICT, one statement";
    public const string SqlAndLedger = "(d+e) SQL rollup + ledger (exactly-once in SQL)";

    private static readonly (string Name, string Unit)[] Rows =
    [
        (Drain, "events/s"), (DrainWall, "s"), (Bare, "msg/s"), (Raw, "msg/s"), (Writer, "events/s"), (Sql, "events/s"), (Ledger, "events/s"), (SqlAndLedger, "events/s"),
    ];

    private readonly Dictionary<string, List<double>> _samples = [];

    public FreshnessResult? Freshness { get; set; }

    /// <summary>How each round's drain flushed, as seen in rollup_state.</summary>
    public List<string> Flushes { get; } = [];

    public void Add(string metric, double value)
    {
        if (!_samples.TryGetValue(metric, out var values))
            _samples[metric] = values = [];
        values.Add(value);
    }

    public double? Median(string metric)
    {
        if (!_samples.TryGetValue(metric, out var values))
            return null;
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    public void Print()
    {
        var limits = options.Aggregator;
        Console.WriteLine($"""

            ## Aggregator benchmark

            Backlog of {options.Events:N0} AnswerSubmitted (whole attempts over 40 tracks, ~1 000 questions, 20 000 wallets, 3-day cycles,
            createdAt over the last {options.Days} days, in publish order with 2 % late) in the `{BrokerTopology.AggregatorQueue}` quorum queue.
            AggregatorOptions MessageLimit={limits.MessageLimit}, FlushInterval={limits.FlushInterval.TotalMilliseconds:N0} ms, one batch at a time, prefetch={limits.PrefetchCount}.
            (b), (b0) and (c) run on the first {Math.Min(options.DiagnosticEvents, options.Events):N0} events. {Environment.ProcessorCount} cores, PostgreSQL, RabbitMQ and the bench on one machine;
            every drain is checked row by row against the SQL rollup of the same events.

            """);
        if (_samples.Count > 0)
        {
            var rounds = _samples.Values.Max(v => v.Count);
            Console.WriteLine($"| measurement | unit | {string.Join(" | ", Enumerable.Range(1, rounds).Select(r => $"round {r}"))} | median |");
            Console.WriteLine($"|---|---|{string.Concat(Enumerable.Repeat("---:|", rounds + 1))}");
            foreach (var (name, unit) in Rows.Where(r => _samples.ContainsKey(r.Name)))
                Console.WriteLine($"| {name} | {unit} | {string.Join(" | ", _samples[name].Select(Format))} | **{Format(Median(name)!.Value)}** |");

            foreach (var (flushes, round) in Flushes.Select((f, i) => (f, i + 1)))
                Console.WriteLine($"{(round == 1 ? "\n" : "")}Drain round {round}: {flushes}.  ");

            Console.WriteLine();
            Console.WriteLine("| ratio (of medians) | value | target |");
            Console.WriteLine("|---|---:|---|");
            Ratio("drain ÷ SQL rollup", Drain, Sql, 0.5);
            Ratio("drain ÷ (SQL rollup + ledger)", Drain, SqlAndLedger);
            Ratio("drain ÷ bare consumer", Drain, Bare);
            Ratio("drain ÷ RollupWriter alone", Drain, Writer);
            Ratio("bare consumer ÷ SQL rollup", Bare, Sql);
            Ratio("bare MassTransit consumer ÷ plain RabbitMQ.Client consumer", Bare, Raw);
            Ratio("plain RabbitMQ.Client consumer ÷ SQL rollup", Raw, Sql);
            Ratio("RollupWriter alone ÷ SQL rollup", Writer, Sql);
        }
        if (Freshness is { } f)
        {
            var target = limits.FlushInterval + TimeSpan.FromSeconds(2);
            Console.WriteLine($"""

                Freshness: {options.FreshnessSeconds} s at a steady {f.TargetRate:N0} events/s (published {f.PublishedRate:N0}/s; {(options.FreshnessRate > 0 ? "set on the command line" : "half the median drain rate")}),
                live attempts plus {options.MarkersPerSecond}/s marker events; publish → visible in question_aggregates, to ±{f.PollInterval.TotalMilliseconds:N0} ms.

                | freshness | markers | p50 | p90 | p99 | max | target p99 |
                |---|---:|---:|---:|---:|---:|---|
                | publish → aggregate | {f.Latencies.Count:N0} | {Ms(f.Percentile(50))} | {Ms(f.Percentile(90))} | {Ms(f.Percentile(99))} | {Ms(f.Percentile(100))} | ≤ {Ms(target)} (flush interval + 2 s): {(f.Percentile(99) <= target ? "met" : "missed")} |
                """);
        }
    }

    private void Ratio(string name, string numerator, string denominator, double? target = null)
    {
        if (Median(numerator) is { } n && Median(denominator) is { } d)
            Console.WriteLine($"| {name} | {(n / d).ToString(n / d < 0.1 ? "0.000" : "0.00")} | {(target is { } t ? $"≥ {t:N1}: {(n / d >= t ? "met" : "missed")}" : "")} |");
    }

    private static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:N0} ms";

    private static string Format(double value) => value >= 100 ? value.ToString("N0") : value.ToString("N2");
}
