using RelayOptions = Telemetry.AttemptsApi.Outbox.Relay;

namespace Telemetry.Bench.Relay;

/// <summary>Command-line settings; the report prints the values it used.</summary>
public sealed record BenchOptions(int Attempts, int Answers, int Clients, int Rounds, RelayOptions Relay)
{
    public const string Usage = """
        usage: bench/run.sh relay [--attempts N] [--answers N] [--clients N] [--rounds N] [--batch-size N] [--workers N]
          --attempts     attempts submitted per measurement (default 2000)
          --answers      answered questions per attempt, so events = attempts × answers (default 10)
          --clients      concurrent HTTP clients submitting, one wallet and keep-alive connection each (default 8)
          --rounds       rounds; medians are reported (default 5: this shared machine is noisy)
          --batch-size, --workers
                         the relay's Relay:BatchSize and Relay:Workers, also the bare publisher's (default: the service's)
        """;

    public int Events => Attempts * Answers;

    public static BenchOptions Parse(string[] args)
    {
        var relay = new RelayOptions();
        var options = new BenchOptions(2000, 10, 8, 5, relay);
        for (var i = 0; i < args.Length; i++)
        {
            int Next(int max) => i + 1 < args.Length && int.TryParse(args[++i], out var value) && value > 0 && value <= max
                ? value
                : throw new ArgumentException($"{args[i - 1]} needs a whole number from 1 to {max}");
            switch (args[i])
            {
                case "--attempts": options = options with { Attempts = Next(1_000_000) }; break;
                case "--answers": options = options with { Answers = Next(50) }; break;
                case "--clients": options = options with { Clients = Next(256) }; break;
                case "--rounds": options = options with { Rounds = Next(50) }; break;
                case "--batch-size": relay.BatchSize = Next(5000); break;
                case "--workers": relay.Workers = Next(16); break;
                default: throw new ArgumentException($"unknown or incomplete argument '{args[i]}'");
            }
        }
        return options;
    }

    // The service binds its options from the section named after the class (an alias's nameof would say "RelayOptions").
    private static readonly string Section = typeof(RelayOptions).Name;

    /// <summary>The relay's options as configuration keys, for the hosted attempts API.</summary>
    public IReadOnlyDictionary<string, string?> RelaySettings() => new Dictionary<string, string?>
    {
        [$"{Section}:{nameof(RelayOptions.BatchSize)}"] = Relay.BatchSize.ToString(),
        [$"{Section}:{nameof(RelayOptions.Workers)}"] = Relay.Workers.ToString(),
    };
}
