using System.Net;
using Xunit;
using static Telemetry.StatsApi.Tests.HttpAssert;

namespace Telemetry.StatsApi.Tests;

public sealed class RateLimitTests(RateLimitTests.TightLimitFixture fixture) : IClassFixture<RateLimitTests.TightLimitFixture>
{
    public const int Burst = 5;

    /// <summary>A bucket of 5 that refills by 1 a second: the sixth request in a burst is refused.</summary>
    public sealed class TightLimitFixture : StatsApiFixture
    {
        protected override IReadOnlyDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
        {
            ["StatsApiOptions:PermitsPerSecond"] = "1",
            ["StatsApiOptions:Burst"] = Burst.ToString(),
        };
    }

    [Fact]
    public async Task A_key_over_its_rate_gets_a_429_problem_with_retry_after_while_other_keys_are_served()
    {
        var greedy = fixture.Client(StatsApiFixture.KeyA);
        var served = 0;
        HttpResponseMessage refused;
        // The bucket refills by one a second, so on a slow machine a few more than the burst may pass.
        while ((refused = await greedy.GetAsync("/api/stats/tracks")).StatusCode == HttpStatusCode.OK && served < 3 * Burst)
            served++;

        Assert.InRange(served, Burst, 3 * Burst - 1);
        await ProblemAsync(refused, HttpStatusCode.TooManyRequests);
        Assert.True(int.Parse(Header(refused, "Retry-After")!) >= 1);
        await OkJsonAsync(await fixture.Client(StatsApiFixture.KeyB).GetAsync("/api/stats/tracks"));
        Assert.Equal(HttpStatusCode.OK, (await fixture.Client(key: null).GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task Requests_with_wrong_keys_are_throttled_too()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3 * Burst && !statuses.Contains(HttpStatusCode.TooManyRequests); i++)
            statuses.Add((await fixture.Client($"wrong-key-{i:00}-0123456789abcdef").GetAsync("/api/stats/tracks")).StatusCode);

        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        Assert.All(statuses[..^1], status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        Assert.InRange(statuses.Count - 1, Burst, 3 * Burst - 1);
    }
}
