using System.ComponentModel.DataAnnotations;

namespace Telemetry.ServiceDefaults;

/// <summary>How often the queue depth gauge counts (QueueDepthMetricsOptions__Interval, default 15 s).</summary>
public sealed class QueueDepthMetricsOptions
{
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);
}
