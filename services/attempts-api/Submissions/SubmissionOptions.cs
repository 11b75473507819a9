using System.ComponentModel.DataAnnotations;

namespace Telemetry.AttemptsApi.Submissions;

/// <summary>The level rule's parameters (env Levels__ApprovedAttemptsPerLevel, Levels__MaxLevel); see <see cref="Grader.After"/>.</summary>
public sealed class Levels
{
    [Range(1, 1000)]
    public int ApprovedAttemptsPerLevel { get; set; } = 3;

    [Range(1, 1000)]
    public int MaxLevel { get; set; } = 10;
}

/// <summary>Per-wallet token bucket on submissions (env RateLimits__PerWalletBurst, RateLimits__PerWalletPerMinute).</summary>
public sealed class RateLimits
{
    /// <summary>Submissions a wallet may make at once.</summary>
    [Range(1, 100_000)]
    public int PerWalletBurst { get; set; } = 20;

    /// <summary>Sustained submissions per wallet and minute.</summary>
    [Range(1, 1_000_000)]
    public int PerWalletPerMinute { get; set; } = 60;
}

/// <summary>Request size and plausibility limits (env RequestLimits__SubmitBodyBytes, …).</summary>
public sealed class RequestLimits
{
    [Range(1024, 16 * 1024 * 1024)]
    public int SubmitBodyBytes { get; set; } = 64 * 1024;

    [Range(1024, 64 * 1024 * 1024)]
    public int AdminBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Longer attempts are refused as absurd (default four hours).</summary>
    [Range(1, 7 * 24 * 3600)]
    public int MaxDurationSec { get; set; } = 4 * 3600;
}
