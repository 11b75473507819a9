using System.Diagnostics;
using System.Net;

namespace Telemetry.Bench.Stats;

/// <summary>One pass: requests completed in the measured window, failures, and every latency (ms), sorted.</summary>
public sealed record LoadResult(long Requests, long Failures, double Seconds, double[] LatenciesMs)
{
    public double Throughput => Requests / Seconds;

    public double Percentile(double p) =>
        LatenciesMs.Length == 0 ? double.NaN : LatenciesMs[Math.Clamp((int)Math.Ceiling(p / 100 * LatenciesMs.Length) - 1, 0, LatenciesMs.Length - 1)];
}

/// <summary>
/// Closed-loop load: each worker sends one GET after another on its own keep-alive connection (the client's pool
/// holds one per worker) and reads the whole body. Requests started during warm-up are not counted; every loop ends
/// at the deadline.
/// </summary>
public static class LoadGenerator
{
    public static HttpClient CreateClient(Uri baseAddress, int workers, string apiKey)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = workers,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        };
        var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    /// <param name="path">The path of a worker's n-th request, given n (spread over the workers).</param>
    public static async Task<LoadResult> RunAsync(HttpClient client, Func<long, string> path, int workers, TimeSpan warmup, TimeSpan duration)
    {
        var measureFrom = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var stopAt = measureFrom + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var results = await Task.WhenAll(Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            var latencies = new List<long>(64 * 1024);
            long failures = 0;
            for (long n = worker; ; n += workers)
            {
                var started = Stopwatch.GetTimestamp();
                if (started >= stopAt)
                    break;
                using var response = await client.GetAsync(path(n), HttpCompletionOption.ResponseContentRead);
                var ended = Stopwatch.GetTimestamp();
                if (started < measureFrom)
                    continue;
                if (response.StatusCode == HttpStatusCode.OK && response.Content.Headers.ContentLength > 0)
                    latencies.Add(ended - started);
                else
                    failures++;
            }
            return (latencies, failures);
        })));

        var all = results.SelectMany(r => r.latencies).Select(t => t * 1000.0 / Stopwatch.Frequency).ToArray();
        Array.Sort(all);
        return new LoadResult(all.Length, results.Sum(r => r.failures), duration.TotalSeconds, all);
    }
}
