using System.Globalization;

namespace Telemetry.LoadGen;

/// <summary>Command-line settings; the report prints every value used.</summary>
public sealed record LoadOptions
{
    public double Rate { get; init; } = 50;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan HalfRateDuration { get; init; } = TimeSpan.Zero;
    public int Wallets { get; init; }
    public int Tracks { get; init; } = 6;
    public double RetryShare { get; init; } = 0.10;
    public double DuplicateShare { get; init; } = 0.05;
    public int MaxInFlight { get; init; } = 128;
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan ProbePoll { get; init; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan Progress { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan SettleTimeout { get; init; } = TimeSpan.FromMinutes(10);
    public string Bare { get; init; } = "both";
    public int? BareMessages { get; init; }
    public string LocalDir { get; init; } = ".local";
    public string ResultsDir { get; init; } = "results";
    public int Seed { get; init; } = Environment.TickCount;
    public string CommandLine { get; init; } = "";

    /// <summary>Wallets used: enough that the per-wallet rate limit (60/min, burst 20 by default) never binds.</summary>
    public int WalletCount => Wallets > 0 ? Wallets : (int)Math.Max(500, Math.Ceiling(Rate * 3));

    public const string Usage = """
        usage: tools/loadgen/run.sh [--rate N] [--duration D] [--half-rate-duration D] [options]
          --rate N                 new attempts per second offered (default 50); retries and duplicates come on top
          --duration D             how long to offer that rate: 90s, 5m, 300 (default 60s)
          --half-rate-duration D   then a second phase at rate/2 for D (freshness at half the rate; default none)
          --wallets N              learner wallets (default max(500, 3 x rate))
          --tracks N               load tracks created for the run, 2..8 (default 6), plus one probe track
          --retry-share F          share of accepted attempts sent again later, same id and body (default 0.10)
          --duplicate-share F      share of attempts sent twice at once (default 0.05)
          --max-in-flight N        concurrent submit requests at most (default 128)
          --probe-interval D       one freshness probe attempt every D (default 1s)
          --probe-poll D           how often the stats API is polled for probes (default 100ms)
          --progress D             progress line every D (default 5s)
          --settle-timeout D       how long to wait for the pipeline to settle after a phase (default 10m)
          --bare MODE              bare MassTransit publish->consume: both | fanout | single | none (default both)
          --bare-messages N        messages for the bare run (default: the events of the first phase)
          --local DIR              the stack's state folder with credentials.env and pids/ (default .local)
          --results DIR            where the Markdown report goes (default results)
          --seed N                 random seed (default: time-based; printed)
        """;

    public static LoadOptions Parse(string[] args)
    {
        var o = new LoadOptions { CommandLine = string.Join(' ', args) };
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--rate" => o with { Rate = Positive(Number(Next()), "--rate") },
                "--duration" => o with { Duration = Span(Next()) },
                "--half-rate-duration" => o with { HalfRateDuration = Span(Next(), allowZero: true) },
                "--wallets" => o with { Wallets = (int)Positive(Number(Next()), "--wallets") },
                "--tracks" => o with { Tracks = (int)Math.Clamp(Number(Next()), 2, 8) },
                "--retry-share" => o with { RetryShare = Share(Next()) },
                "--duplicate-share" => o with { DuplicateShare = Share(Next()) },
                "--max-in-flight" => o with { MaxInFlight = (int)Positive(Number(Next()), "--max-in-flight") },
                "--probe-interval" => o with { ProbeInterval = Span(Next()) },
                "--probe-poll" => o with { ProbePoll = Span(Next()) },
                "--progress" => o with { Progress = Span(Next()) },
                "--settle-timeout" => o with { SettleTimeout = Span(Next()) },
                "--bare" => o with { Bare = Next() is var mode && mode is "both" or "fanout" or "single" or "none" ? mode : throw new ArgumentException("--bare is one of both, fanout, single, none") },
                "--bare-messages" => o with { BareMessages = (int)Positive(Number(Next()), "--bare-messages") },
                "--local" => o with { LocalDir = Next() },
                "--results" => o with { ResultsDir = Next() },
                "--seed" => o with { Seed = (int)Number(Next()) },
                _ => throw new ArgumentException($"unknown argument '{args[i]}'"),
            };
        }
        return o;
    }

    private static double Number(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : throw new ArgumentException($"'{text}' is not a number");

    private static double Positive(double value, string name) => value > 0 ? value : throw new ArgumentException($"{name} must be positive");

    private static double Share(string text) => Number(text) is var v and >= 0 and <= 1 ? v : throw new ArgumentException($"a share is between 0 and 1, not {text}");

    /// <summary>"90s", "5m", "1h", "250ms" or plain seconds.</summary>
    public static TimeSpan Span(string text, bool allowZero = false)
    {
        var (number, unit) = text.EndsWith("ms") ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1)
            : text.EndsWith('m') ? (text[..^1], 60)
            : text.EndsWith('h') ? (text[..^1], 3600)
            : (text, 1.0);
        var seconds = Number(number) * unit;
        return seconds > 0 || (allowZero && seconds == 0) ? TimeSpan.FromSeconds(seconds) : throw new ArgumentException($"'{text}' is not a positive duration");
    }
}
