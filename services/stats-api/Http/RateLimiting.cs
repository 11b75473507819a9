using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Telemetry.StatsApi.Auth;

namespace Telemetry.StatsApi.Http;

/// <summary>
/// A token bucket per dashboard key (per client address for requests without a known key, so a flood of bad keys is
/// throttled as well); an exhausted bucket answers 429 with Retry-After. Runs after authentication, before authorization.
/// </summary>
public sealed class PerKeyRateLimitPolicy(IOptions<StatsApiOptions> options) : IRateLimiterPolicy<string>
{
    public const string Name = "per-dashboard-key";

    private readonly TokenBucketRateLimiterOptions _bucket = new()
    {
        TokenLimit = options.Value.Burst,
        TokensPerPeriod = options.Value.PermitsPerSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    /// <remarks>Key ids are numbers, so they never collide with "address:…".</remarks>
    public RateLimitPartition<string> GetPartition(HttpContext httpContext) =>
        RateLimitPartition.GetTokenBucketLimiter(
            httpContext.User.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)?.Value ?? "address:" + httpContext.Connection.RemoteIpAddress,
            _ => _bucket);

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = async (rejected, _) =>
    {
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        rejected.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await Problems.WriteAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests, "Too many requests",
            $"This API key's request rate is limited; retry after {seconds} s.");
    };
}

public static class RateLimiting
{
    public static IServiceCollection AddPerKeyRateLimiting(this IServiceCollection services) =>
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy<string, PerKeyRateLimitPolicy>(PerKeyRateLimitPolicy.Name);
        });
}
