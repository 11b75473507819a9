namespace Telemetry.Bench.Stats;

/// <summary>Command-line settings; the report prints the values it ran with.</summary>
public sealed record BenchOptions(
    int Workers, int Seconds, int WarmupSeconds, int Rounds, int Tracks, int Questions, int? CacheMilliseconds, string? Only)
{
    public const string Usage = """
        usage: bench/run.sh stats [--workers N] [--seconds N] [--warmup N] [--rounds N] [--tracks N] [--questions N] [--cache-ms N]
                                  [--only tracks|questions]
          --workers    concurrent HttpClient workers, each with its own keep-alive connection (default 32)
          --seconds    measured duration of each endpoint × server pass (default 3)
          --warmup     unmeasured load before each pass (default 1)
          --rounds     rounds; the order of the two servers alternates; medians are reported (default 5)
          --tracks     tracks in the seeded catalogue (default 50)
          --questions  questions per track (default 40)
          --cache-ms   StatsApiOptions:ResponseCacheDuration of the API under test (default: the service's own, 1000)
          --only       measure one of the two endpoints
        """;

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions(32, 3, 1, 5, 50, 40, null, null);
        for (var i = 0; i < args.Length; i++)
        {
            int Next(int min, int max) => i + 1 < args.Length && int.TryParse(args[++i], out var value) && value >= min && value <= max
                ? value
                : throw new ArgumentException($"{args[i - 1]} needs a whole number from {min} to {max}");
            options = args[i] switch
            {
                "--workers" => options with { Workers = Next(1, 1024) },
                "--seconds" => options with { Seconds = Next(1, 600) },
                "--warmup" => options with { WarmupSeconds = Next(0, 60) },
                "--rounds" => options with { Rounds = Next(1, 20) },
                "--tracks" => options with { Tracks = Next(1, 1000) },
                "--questions" => options with { Questions = Next(1, 1000) },
                "--cache-ms" => options with { CacheMilliseconds = Next(0, 60_000) },
                "--only" when i + 1 < args.Length && args[++i] is "tracks" or "questions" => options with { Only = args[i] },
                _ => throw new ArgumentException($"unknown argument '{args[i]}'"),
            };
        }
        return options;
    }
}
