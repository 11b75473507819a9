using System.Net;
using Xunit;
using static Telemetry.StatsApi.Tests.HttpAssert;

namespace Telemetry.StatsApi.Tests;

/// <summary>Every bad parameter is a 400 validation problem that names it.</summary>
public sealed class ValidationTests(StatsApiFixture fixture) : IClassFixture<StatsApiFixture>
{
    private const string Track = "11111111-1111-1111-1111-111111111111";

    [Theory]
    [InlineData("/api/stats/questions", "trackId")]
    [InlineData("/api/stats/questions?trackId=", "trackId")]
    [InlineData("/api/stats/questions?trackId=not-a-uuid", "trackId")]
    [InlineData($"/api/stats/questions?trackId={Track}&trackId={Track}", "trackId")]
    [InlineData($"/api/stats/questions?trackId={Track}&limit=0", "limit")]
    [InlineData($"/api/stats/questions?trackId={Track}&limit=1001", "limit")]
    [InlineData($"/api/stats/questions?trackId={Track}&limit=ten", "limit")]
    [InlineData($"/api/stats/questions?trackId={Track}&limit=-5", "limit")]
    [InlineData($"/api/stats/questions?trackId={Track}&limit=", "limit")]
    [InlineData($"/api/stats/questions?trackId={Track}&cursor=abc", "cursor")]
    [InlineData("/api/stats/tracks/not-a-uuid", "trackId")]
    [InlineData("/api/stats/tracks/not-a-uuid/daily?from=2026-11-01&to=2026-11-02", "trackId")]
    [InlineData($"/api/stats/tracks/{Track}/daily?to=2026-11-02", "from")]
    [InlineData($"/api/stats/tracks/{Track}/daily?from=2026-11-01", "to")]
    [InlineData($"/api/stats/tracks/{Track}/daily?from=2026-13-01&to=2026-11-02", "from")]
    [InlineData($"/api/stats/tracks/{Track}/daily?from=2026-11-01&to=02.11.2026", "to")]
    [InlineData($"/api/stats/tracks/{Track}/daily?from=2026-11-01T00:00:00Z&to=2026-11-02", "from")]
    [InlineData($"/api/stats/tracks/{Track}/daily?from=2026-11-02&to=2026-11-01", "to")]
    [InlineData($"/api/stats/tracks/{Track}/daily?from=2025-11-22&to=2026-11-23", "to")]
    [InlineData("/api/stats/cycles/0", "cycleNumber")]
    [InlineData("/api/stats/cycles/-1", "cycleNumber")]
    [InlineData("/api/stats/cycles/one", "cycleNumber")]
    [InlineData("/api/stats/cycles/99999999999", "cycleNumber")]
    public async Task A_bad_parameter_is_a_validation_problem_naming_it(string path, string parameter)
    {
        var problem = await ProblemAsync(await fixture.Client().GetAsync(path), HttpStatusCode.BadRequest);

        Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(parameter, out _),
            $"the problem should name '{parameter}': {problem}");
    }

    [Fact]
    public async Task Several_bad_parameters_are_all_named_in_one_problem()
    {
        var problem = await ProblemAsync(
            await fixture.Client().GetAsync("/api/stats/tracks/nope/daily?from=yesterday"), HttpStatusCode.BadRequest);

        Assert.Equal(["trackId", "from", "to"], problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }
}
