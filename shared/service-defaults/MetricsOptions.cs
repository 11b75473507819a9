namespace Telemetry.ServiceDefaults;

/// <summary>Whether /metrics serves Prometheus' scrape format (MetricsOptions__Prometheus, default true).</summary>
public sealed class MetricsOptions
{
    public const string ScrapePath = "/metrics";

    public bool Prometheus { get; set; } = true;
}
