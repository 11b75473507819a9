using System.ComponentModel.DataAnnotations;

namespace Telemetry.StatsApi;

/// <summary>How the stats API caches and throttles (section StatsApiOptions, e.g. StatsApiOptions__PermitsPerSecond).</summary>
public sealed class StatsApiOptions
{
    /// <summary>
    /// How long one query's answer is served from memory to every dashboard (0 turns the cache off). The aggregates only
    /// move when the aggregator flushes (every 2 s by default), and X-Data-As-Of always names the data actually served.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ResponseCacheDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Cache-Control: private, max-age of every statistics response, in whole seconds.</summary>
    [Range(0, 300)]
    public int ClientMaxAgeSeconds { get; set; } = 2;

    /// <summary>Most cached answers held at once (distinct endpoints × parameters); the oldest go first beyond it.</summary>
    [Range(1, 1_000_000)]
    public int ResponseCacheEntries { get; set; } = 10_000;

    /// <summary>Sustained requests per second per API key (per client address for requests without a valid key).</summary>
    [Range(1, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 50;

    /// <summary>Requests a key may burst above the sustained rate (the token bucket's size).</summary>
    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 100;
}
