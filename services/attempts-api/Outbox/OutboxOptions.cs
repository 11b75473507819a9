using System.ComponentModel.DataAnnotations;

namespace Telemetry.AttemptsApi.Outbox;

/// <summary>How the outbox relay publishes (env Relay__BatchSize, Relay__IdleInterval, …).</summary>
public sealed class Relay
{
    /// <summary>Rows claimed (and published concurrently) per transaction.</summary>
    [Range(1, 5000)]
    public int BatchSize { get; set; } = 500;

    /// <summary>Relay loops per process; each claims its own rows, as separate replicas do.</summary>
    [Range(1, 16)]
    public int Workers { get; set; } = 2;

    /// <summary>How often an idle relay looks for rows it was not woken for (other replicas' rows, earlier failures).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan IdleInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Time allowed for one publish, including the broker's confirm.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Quick retries of one publish (a dropped channel) before the batch gives up on it; an outage is the batch backoff's job.</summary>
    [Range(0, 10)]
    public int PublishRetries { get; set; } = 1;

    /// <summary>
    /// Longest pause between batches while relaying keeps failing (the broker or the database is down), so the outbox
    /// drains within about this long of its return. A submit does not cut a backoff short.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the unsent backlog is counted for /metrics (telemetry_outbox_backlog).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan BacklogSampleInterval { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>How long sent outbox rows are kept, and how often they are deleted (env OutboxRetention__SentRowsFor, OutboxRetention__Interval).</summary>
public sealed class OutboxRetention
{
    [Range(typeof(TimeSpan), "00:00:00", "90.00:00:00")]
    public TimeSpan SentRowsFor { get; set; } = TimeSpan.FromDays(1);

    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Rows deleted per statement, so a large backlog never holds long locks.</summary>
    [Range(100, 100_000)]
    public int DeleteChunk { get; set; } = 10_000;
}
