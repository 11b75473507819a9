using Telemetry.Aggregator;

namespace Telemetry.Bench.Aggregator;

/// <summary>Command-line settings; the report prints the values it ran with.</summary>
public sealed record BenchOptions(
    int Events, int DiagnosticEvents, int Rounds, int Days, int FreshnessSeconds, double FreshnessRate, int MarkersPerSecond, IReadOnlySet<string> Parts,
    IReadOnlyDictionary<string, string?> AggregatorSettings)
{
    public static readonly string[] AllParts = ["drain", "bare", "raw", "writer", "sql", "freshness"];

    public const string Usage = """
        usage: bench/run.sh aggregator [--events N] [--diagnostic-events N] [--rounds N] [--days N] [--only PART,...]
                                       [--freshness-seconds N] [--freshness-rate N] [--markers-per-second N]
                                       [--message-limit N] [--flush-interval-ms N]
          --events              backlog size (default 200000, at least 10000)
          --diagnostic-events   the first N of them for the bare and raw consumers and RollupWriter alone (default 50000)
          --rounds              rounds of the backlog measurements; medians are reported (default 3)
          --days                days the backlog's createdAt spans, up to now (default 7)
          --only                some of: drain (the aggregator), bare (ack-only MassTransit batch consumer), raw (plain
                                RabbitMQ.Client consumer), writer (RollupWriter without a broker), sql (the SQL rollup and
                                the ledger insert), freshness
          --freshness-seconds   measured window at a steady rate, after 5 s of warm-up (default 60)
          --freshness-rate      events/s for freshness (default: half the median drain rate of this run)
          --markers-per-second  marker events among them (default 50)
          --message-limit, --flush-interval-ms
                                AggregatorOptions for the aggregator and the bare consumer (default: the service's own)
        """;

    /// <summary>The aggregator's options as this run applies them: its defaults, with what the command line overrides.</summary>
    public AggregatorOptions Aggregator
    {
        get
        {
            var options = new AggregatorOptions();
            if (AggregatorSettings.GetValueOrDefault(Key(nameof(AggregatorOptions.MessageLimit))) is { } limit)
                options.MessageLimit = int.Parse(limit);
            if (AggregatorSettings.GetValueOrDefault(Key(nameof(AggregatorOptions.FlushInterval))) is { } interval)
                options.FlushInterval = TimeSpan.Parse(interval);
            return options;
        }
    }

    public static BenchOptions Parse(string[] args)
    {
        var settings = new Dictionary<string, string?>();
        var options = new BenchOptions(200_000, 50_000, 3, 7, 60, 0, 50, AllParts.ToHashSet(), settings);
        for (var i = 0; i < args.Length; i++)
        {
            int Next() => i + 1 < args.Length && int.TryParse(args[++i], out var value) && value > 0
                ? value
                : throw new ArgumentException($"{args[i - 1]} needs a positive whole number");
            switch (args[i])
            {
                case "--events": options = options with { Events = Math.Max(10_000, Next()) }; break;
                case "--diagnostic-events": options = options with { DiagnosticEvents = Math.Max(10_000, Next()) }; break;
                case "--rounds": options = options with { Rounds = Next() }; break;
                case "--days": options = options with { Days = Math.Min(25, Next()) }; break;
                case "--freshness-seconds": options = options with { FreshnessSeconds = Next() }; break;
                case "--freshness-rate": options = options with { FreshnessRate = Next() }; break;
                case "--markers-per-second": options = options with { MarkersPerSecond = Next() }; break;
                case "--only" when i + 1 < args.Length && args[++i].Split(',') is var parts && parts.All(AllParts.Contains):
                    options = options with { Parts = parts.ToHashSet() };
                    break;
                case "--message-limit": settings[Key(nameof(AggregatorOptions.MessageLimit))] = Next().ToString(); break;
                case "--flush-interval-ms": settings[Key(nameof(AggregatorOptions.FlushInterval))] = TimeSpan.FromMilliseconds(Next()).ToString("c"); break;
                default: throw new ArgumentException($"unknown or incomplete argument '{args[i]}'");
            }
        }
        return options;
    }

    private static string Key(string option) => $"{nameof(AggregatorOptions)}:{option}";
}
