using System.Net;
using Xunit;
using static Telemetry.StatsApi.Tests.HttpAssert;

namespace Telemetry.StatsApi.Tests;

public sealed class AuthenticationTests(StatsApiFixture fixture) : IClassFixture<StatsApiFixture>
{
    [Fact]
    public async Task Without_a_key_the_answer_is_a_401_problem_that_says_where_the_key_goes()
    {
        var response = await fixture.Client(key: null).GetAsync("/api/stats/tracks");

        var problem = await ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Contains("X-Api-Key", problem.GetProperty("detail").GetString());
        Assert.Contains("X-Api-Key", Header(response, "WWW-Authenticate"));
    }

    [Theory]
    [InlineData("dashboard-key-unknown-0123456789")]
    [InlineData("DASHBOARD-KEY-A-0123456789ABCDEF")]
    [InlineData(" ")]
    public async Task An_unknown_key_is_a_401_problem(string key)
    {
        await ProblemAsync(await fixture.Client(key).GetAsync("/api/stats/tracks"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_overlong_key_is_refused_without_looking_it_up()
    {
        await ProblemAsync(await fixture.Client(new string('k', 257)).GetAsync("/api/stats/tracks"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Two_key_headers_are_refused()
    {
        var client = fixture.Client();
        client.DefaultRequestHeaders.Add("X-Api-Key", StatsApiFixture.KeyB);

        await ProblemAsync(await client.GetAsync("/api/stats/tracks"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_revoked_key_is_a_403_problem()
    {
        var problem = await ProblemAsync(await fixture.Client(StatsApiFixture.RevokedKey).GetAsync("/api/stats/tracks"), HttpStatusCode.Forbidden);

        Assert.Contains("revoked", problem.GetProperty("title").GetString());
    }

    [Theory]
    [InlineData(StatsApiFixture.KeyA)]
    [InlineData(StatsApiFixture.KeyB)]
    public async Task Several_keys_are_active_at_once(string key)
    {
        await OkJsonAsync(await fixture.Client(key).GetAsync("/api/stats/tracks"));
    }

    [Theory]
    [InlineData("/api/stats/tracks/11111111-1111-1111-1111-111111111111")]
    [InlineData("/api/stats/tracks/11111111-1111-1111-1111-111111111111/daily?from=2026-11-01&to=2026-11-02")]
    [InlineData("/api/stats/questions?trackId=11111111-1111-1111-1111-111111111111")]
    [InlineData("/api/stats/cycle/current")]
    [InlineData("/api/stats/cycles/1")]
    [InlineData("/api/stats/questions")]
    public async Task Every_statistics_endpoint_needs_a_key_even_with_bad_parameters(string path)
    {
        await ProblemAsync(await fixture.Client(key: null).GetAsync(path), HttpStatusCode.Unauthorized);
        await ProblemAsync(await fixture.Client(StatsApiFixture.RevokedKey).GetAsync(path), HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    [InlineData("/openapi/v1.json")]
    public async Task Health_and_the_api_description_need_no_key(string path)
    {
        Assert.Equal(HttpStatusCode.OK, (await fixture.Client(key: null).GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task A_key_added_to_the_table_works_at_once_and_a_revocation_takes_effect_within_the_refresh_interval()
    {
        const string key = "dashboard-key-rotated-0123456789";
        await fixture.AddKeyAsync("dashboard-rotated", key);
        await OkJsonAsync(await fixture.Client(key).GetAsync("/api/stats/tracks"));

        await fixture.Database.ExecuteAsync("UPDATE dashboard_api_keys SET revoked_at = now() WHERE name = 'dashboard-rotated'");
        // The fixture's DashboardKeys:RefreshInterval is 1 s: any key list read before the revocation is stale by then.
        await Task.Delay(TimeSpan.FromSeconds(1.1));

        await ProblemAsync(await fixture.Client(key).GetAsync("/api/stats/tracks"), HttpStatusCode.Forbidden);
        await OkJsonAsync(await fixture.Client(StatsApiFixture.KeyA).GetAsync("/api/stats/tracks"));
    }
}
