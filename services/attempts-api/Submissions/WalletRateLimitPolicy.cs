using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Telemetry.AttemptsApi.Auth;

namespace Telemetry.AttemptsApi.Submissions;

/// <summary>A token bucket per wallet (from the validated token), so one noisy learner cannot crowd out the others.</summary>
public sealed class WalletRateLimitPolicy(IOptions<RateLimits> options) : IRateLimiterPolicy<string>
{
    public const string Name = "per-wallet";

    private readonly TokenBucketRateLimiterOptions _bucket = Bucket(options.Value);

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = RejectAsync;

    public RateLimitPartition<string> GetPartition(HttpContext httpContext) =>
        RateLimitPartition.GetTokenBucketLimiter(httpContext.User.FindFirstValue(AttemptsClaims.Wallet) ?? "", _ => _bucket);

    // Refills at least a second apart: the partitioned limiter's timer ticks only every 100 ms.
    private static TokenBucketRateLimiterOptions Bucket(RateLimits limits)
    {
        var perSecond = limits.PerWalletPerMinute >= 60;
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = limits.PerWalletBurst,
            TokensPerPeriod = perSecond ? (limits.PerWalletPerMinute + 59) / 60 : 1,
            ReplenishmentPeriod = perSecond ? TimeSpan.FromSeconds(1) : TimeSpan.FromMinutes(1) / limits.PerWalletPerMinute,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }

    private static async ValueTask RejectAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = "This wallet submits too often; retry later.",
            },
        });
    }
}
