using System.Globalization;

namespace Telemetry.Bench.Stats;

/// <summary>Every pass, the medians over rounds, and the ratios to the bare endpoint against the targets, as Markdown.</summary>
public sealed class Report(BenchOptions options)
{
    public const string Api = "stats API";
    public const string Bare = "bare Kestrel";
    private const double ThroughputTarget = 0.5;
    private const double P99Target = 2.0;

    private readonly List<(Endpoint Endpoint, string Server, LoadResult Result)> _passes = [];

    public long Failures => _passes.Sum(p => p.Result.Failures);

    public void Add(Endpoint endpoint, string server, LoadResult result) => _passes.Add((endpoint, server, result));

    public void Print()
    {
        var cache = options.CacheMilliseconds is { } ms ? $"{ms} ms" : "the service default (1 s)";
        Console.WriteLine($"""

            ## Stats API benchmark

            {options.Tracks} tracks × {options.Questions} questions of aggregates; the real stats API (API key, per-key rate limiter,
            ETag, response cache {cache}, telemetry role) and a bare Kestrel endpoint with the same Kestrel limits serving the same
            bytes, both on 127.0.0.1 in this process. {options.Workers} closed-loop HttpClient workers, {options.WarmupSeconds} s warm-up + {options.Seconds} s
            per pass, {options.Rounds} rounds (server order alternating), {Environment.ProcessorCount} cores. Questions rotate over all {options.Tracks} tracks.
            Absolute figures are medians over rounds; each ratio is the median of the rounds' ratios (the API pass against the bare
            pass next to it in time, so load from outside the benchmark hits both alike). Targets: throughput ≥ {ThroughputTarget}× bare,
            p99 ≤ {P99Target}× bare.

            | endpoint | body | API req/s | bare req/s | throughput ratio | API p50 ms | bare p50 ms | API p99 ms | bare p99 ms | p99 ratio | verdict |
            |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
            """);
        foreach (var endpoint in _passes.Select(p => p.Endpoint).Distinct())
        {
            var api = Medians(endpoint, Api);
            var bare = Medians(endpoint, Bare);
            var (throughputRatio, p99Ratio) = MedianRatios(endpoint);
            var verdict = throughputRatio >= ThroughputTarget && p99Ratio <= P99Target ? "meets both targets" : "MISSES a target";
            Console.WriteLine(
                $"| `{endpoint.Name}` | {endpoint.BodyBytes:N0} B | {api.Throughput:N0} | {bare.Throughput:N0} | **{throughputRatio:0.00}×** | " +
                $"{api.P50:0.00} | {bare.P50:0.00} | {api.P99:0.00} | {bare.P99:0.00} | **{p99Ratio:0.00}×** | {verdict} |");
        }

        Console.WriteLine("""

            Every pass:

            | round | endpoint | server | req/s | p50 ms | p99 ms | failures |
            |---:|---|---|---:|---:|---:|---:|
            """);
        var perRound = _passes.Count / Math.Max(1, options.Rounds);
        foreach (var (pass, index) in _passes.Select((p, i) => (p, i)))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {index / perRound + 1} | `{pass.Endpoint.Name}` | {pass.Server} | {pass.Result.Throughput:N0} | {pass.Result.Percentile(50):0.00} | {pass.Result.Percentile(99):0.00} | {pass.Result.Failures} |"));
    }

    private (double Throughput, double P50, double P99) Medians(Endpoint endpoint, string server)
    {
        var results = _passes.Where(p => p.Endpoint == endpoint && p.Server == server).Select(p => p.Result).ToList();
        return (Median(results.Select(r => r.Throughput)), Median(results.Select(r => r.Percentile(50))), Median(results.Select(r => r.Percentile(99))));
    }

    /// <summary>Each round's API pass against its bare pass (run back to back), then the median over rounds.</summary>
    private (double Throughput, double P99) MedianRatios(Endpoint endpoint)
    {
        var api = _passes.Where(p => p.Endpoint == endpoint && p.Server == Api).Select(p => p.Result).ToList();
        var bare = _passes.Where(p => p.Endpoint == endpoint && p.Server == Bare).Select(p => p.Result).ToList();
        var rounds = api.Zip(bare).ToList();
        return (Median(rounds.Select(r => r.First.Throughput / r.Second.Throughput)),
            Median(rounds.Select(r => r.First.Percentile(99) / r.Second.Percentile(99))));
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
