using Telemetry.EventIngestor;

namespace Telemetry.Bench.Ingestor;

/// <summary>Command-line settings; every run prints the values it used.</summary>
public sealed record BenchOptions(
    int Messages, int Rounds, int RetentionRows, int RetentionDays, IReadOnlySet<string> Parts, int FigureDays, int FigureRowsPerDay, IngestorOptions Ingestor)
{
    public static readonly string[] AllParts = ["ingestor", "bare", "batch", "writes", "retention", "figure"];

    /// <summary>The bare batch drain only shows what MassTransit's batching costs by itself: opt in with --only.</summary>
    public static readonly string[] DefaultParts = ["ingestor", "bare", "writes", "retention", "figure"];

    public const string Usage = """
        usage: bench/run.sh ingestor [--messages N] [--rounds N] [--retention-rows N]
                                     [--message-limit N] [--concurrency N] [--time-limit-ms N]
                                     [--only PART,...] [--retention-figure] [--figure-days N] [--figure-rows-per-day N]
          --messages            backlog size for the drain measurements (default 200000, at least 1000)
          --rounds              rounds per measurement; medians are reported (default 3)
          --retention-rows      rows in the expired partitions for drop vs DELETE (default 200000)
          --message-limit, --concurrency, --time-limit-ms
                                IngestorOptions for the ingestor and for the bare consumers (default: the service's)
          --only                some of: ingestor, bare, batch (the drains), writes, retention, figure
                                (default: all but batch, the bare batch consumer)
          --retention-figure    only the README figure (--only figure): simulated days of events before and after retention
          --figure-days, --figure-rows-per-day
                                its size (default 70 days of 2000 rows, retention 60 days)
        """;

    public static BenchOptions Parse(string[] args)
    {
        var ingestor = new IngestorOptions();
        var options = new BenchOptions(200_000, 3, 200_000, 60, DefaultParts.ToHashSet(), 70, 2000, ingestor);
        for (var i = 0; i < args.Length; i++)
        {
            int Next() => i + 1 < args.Length && int.TryParse(args[++i], out var value) && value > 0
                ? value
                : throw new ArgumentException($"{args[i - 1]} needs a positive whole number");
            switch (args[i])
            {
                case "--messages": options = options with { Messages = Math.Max(1000, Next()) }; break;
                case "--rounds": options = options with { Rounds = Next() }; break;
                case "--retention-rows": options = options with { RetentionRows = Next() }; break;
                case "--retention-figure": options = options with { Parts = new HashSet<string> { "figure" } }; break;
                case "--only" when i + 1 < args.Length && args[++i].Split(',') is var parts && parts.All(AllParts.Contains):
                    options = options with { Parts = parts.ToHashSet() };
                    break;
                case "--figure-days": options = options with { FigureDays = Next() }; break;
                case "--figure-rows-per-day": options = options with { FigureRowsPerDay = Next() }; break;
                case "--message-limit": ingestor.MessageLimit = Next(); break;
                case "--concurrency": ingestor.ConcurrencyLimit = Next(); break;
                case "--time-limit-ms": ingestor.TimeLimit = TimeSpan.FromMilliseconds(Next()); break;
                default: throw new ArgumentException($"unknown or incomplete argument '{args[i]}'");
            }
        }
        return options;
    }

    /// <summary>The same options as configuration keys, for the hosted ingestor.</summary>
    public IReadOnlyDictionary<string, string?> IngestorSettings() => new Dictionary<string, string?>
    {
        [$"{nameof(IngestorOptions)}:{nameof(IngestorOptions.MessageLimit)}"] = Ingestor.MessageLimit.ToString(),
        [$"{nameof(IngestorOptions)}:{nameof(IngestorOptions.ConcurrencyLimit)}"] = Ingestor.ConcurrencyLimit.ToString(),
        [$"{nameof(IngestorOptions)}:{nameof(IngestorOptions.TimeLimit)}"] = Ingestor.TimeLimit.ToString("c"),
    };
}
