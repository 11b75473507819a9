using System.ComponentModel.DataAnnotations;

namespace Telemetry.ServiceDefaults.Failures;

/// <summary>How work waits out an outage (section OutageRetryOptions, env OutageRetryOptions__*).</summary>
public sealed class OutageRetryOptions
{
    /// <summary>The first pause after a failure; each next one is about twice as long, with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan FirstDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest pause between tries, so work resumes within about this long after the dependency returns.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);
}
