using System.Net;
using System.Net.Http.Json;
using Xunit;

namespace Telemetry.AttemptsApi.Tests;

public sealed class TightRateLimitFixture : AttemptsApiFixture
{
    protected override IReadOnlyDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["RateLimits:PerWalletBurst"] = "2",
        ["RateLimits:PerWalletPerMinute"] = "1",
    };
}

public sealed class RateLimitTests(TightRateLimitFixture api) : IClassFixture<TightRateLimitFixture>
{
    [Fact]
    public async Task A_wallet_over_its_limit_gets_a_429_problem_while_other_wallets_go_on()
    {
        var track = await api.CreateTrackAsync();
        using var noisy = api.Learner(AttemptsApiFixture.NewWallet());
        using var quiet = api.Learner(AttemptsApiFixture.NewWallet());

        var allowed = new[]
        {
            await noisy.PostAsJsonAsync("/api/train-attempts/submit", track.Body(Guid.NewGuid())),
            await noisy.PostAsJsonAsync("/api/train-attempts/submit", track.Body(Guid.NewGuid())),
        };
        var attemptId = Guid.NewGuid();
        var limited = await noisy.PostAsJsonAsync("/api/train-attempts/submit", track.Body(attemptId));
        var other = await quiet.PostAsJsonAsync("/api/train-attempts/submit", track.Body(Guid.NewGuid()));

        Assert.All(allowed, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        await ProblemAssert.IsProblemAsync(limited, HttpStatusCode.TooManyRequests);
        Assert.NotNull(limited.Headers.RetryAfter);
        Assert.Equal(0, await api.AttemptRowsAsync(attemptId));
        Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);
    }
}
