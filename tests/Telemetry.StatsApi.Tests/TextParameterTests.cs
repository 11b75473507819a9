using System.Net;
using Xunit;
using static Telemetry.StatsApi.Tests.HttpAssert;

namespace Telemetry.StatsApi.Tests;

/// <summary>
/// The shared text rule at the stats API's boundary: a control character in any parameter is a 400 naming it, a
/// hostile X-Api-Key is a 401, and no hostile value in any parameter of any endpoint gets a 5xx.
/// </summary>
public sealed class TextParameterTests(StatsApiFixture fixture) : IClassFixture<StatsApiFixture>
{
    private const string Track = "11111111-1111-1111-1111-111111111111";
    private const string Days = "from=2026-11-01&to=2026-11-02";

    // A NUL in the path never reaches routing (ASP.NET Core's URL decoder refuses it; Kestrel answers 400), so the
    // path parameters are checked with other control characters.
    [Theory]
    [InlineData("/api/stats/questions?trackId=%00", "trackId", "U+0000")]
    [InlineData($"/api/stats/questions?trackId={Track}%00", "trackId", "U+0000")]
    [InlineData($"/api/stats/questions?trackId={Track}&limit=5%00", "limit", "U+0000")]
    [InlineData($"/api/stats/questions?trackId={Track}&limit=%09", "limit", "U+0009")]
    [InlineData($"/api/stats/questions?trackId={Track}&cursor=%01", "cursor", "U+0001")]
    [InlineData($"/api/stats/questions?trackId={Track}&cursor={Track}%7F", "cursor", "U+007F")]
    [InlineData($"/api/stats/tracks/{Track}/daily?from=2026-11-01%00&to=2026-11-02", "from", "U+0000")]
    [InlineData($"/api/stats/tracks/{Track}/daily?from=2026-11-01&to=%0A2026-11-02", "to", "U+000A")]
    [InlineData($"/api/stats/tracks/{Track}%01", "trackId", "U+0001")]
    [InlineData($"/api/stats/tracks/{Track}%1F/daily?{Days}", "trackId", "U+001F")]
    [InlineData("/api/stats/cycles/1%C2%85", "cycleNumber", "U+0085")]
    public async Task A_parameter_with_a_control_character_is_a_validation_problem_naming_it(string path, string parameter, string codePoint)
    {
        var problem = await ProblemAsync(await fixture.Client().GetAsync(path), HttpStatusCode.BadRequest);

        Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(parameter, out _),
            $"the problem should name '{parameter}': {problem}");
        Assert.Equal($"{parameter} must not contain control characters ({codePoint}).", errors.GetProperty(parameter)[0].GetString());
    }

    public static TheoryData<string, string> HostileKeys => new()
    {
        { "NUL", "\0" },
        { "a valid key followed by NUL", StatsApiFixture.KeyA + "\0" },
        { "NUL inside a valid key", StatsApiFixture.KeyA[..10] + "\0" + StatsApiFixture.KeyA[10..] },
        { "a control character", "\u0001" },
        { "DEL", StatsApiFixture.KeyA + "\u007f" },
        { "an unpaired surrogate", "\ud800" },
        { "a valid key followed by an unpaired surrogate", StatsApiFixture.KeyA + "\udc00" },
        { "10,000 characters", new string('k', 10_000) },
        { "10,000 NULs", new string('\0', 10_000) },
    };

    [Theory]
    [MemberData(nameof(HostileKeys))]
    public async Task A_hostile_api_key_is_a_401_problem(string because, string key)
    {
        using var client = WithKey(key);

        var response = await client.GetAsync("/api/stats/tracks");

        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{because}: {(int)response.StatusCode}");
        await ProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    /// <summary>Percent-encoded, as they arrive in a URL.</summary>
    private static readonly IReadOnlyList<(string Name, string Encoded)> HostileValues =
    [
        ("NUL", "%00"),
        ("NUL inside", "1%002"),
        ("control character", "%01"),
        ("escape sequence", "%1B%5B31m"),
        ("DEL", "%7F"),
        ("C1 control", "%C2%85"),
        ("a surrogate in CESU-8", "%ED%A0%80"),
        ("invalid UTF-8", "%FF%FE"),
        ("truncated UTF-8", "%F0%9F"),
        ("huge", new string('7', 10_000)),
        ("huge NULs", string.Concat(Enumerable.Repeat("%00", 3_000))),
        ("1e400", "1e400"),
        ("-1e400", "-1e400"),
        ("negative", "-1"),
        ("huge integer", "123456789012345678901234567890"),
        ("JSON array", "%5B%5D"),
        ("JSON object", "%7B%7D"),
        ("null", "null"),
        ("deep nesting", string.Concat(Enumerable.Repeat("%5B", 2_000))),
    ];

    private static readonly string[] Endpoints =
    [
        "/api/stats/tracks/{v}",
        "/api/stats/tracks/{v}/daily?" + Days,
        $"/api/stats/tracks/{Track}/daily?from={{v}}&to=2026-11-02",
        $"/api/stats/tracks/{Track}/daily?from=2026-11-01&to={{v}}",
        "/api/stats/questions?trackId={v}",
        $"/api/stats/questions?trackId={Track}&limit={{v}}",
        $"/api/stats/questions?trackId={Track}&cursor={{v}}",
        $"/api/stats/questions?trackId={Track}&trackId={{v}}",
        "/api/stats/cycles/{v}",
    ];

    [Fact]
    public async Task No_hostile_value_in_any_parameter_of_any_endpoint_gets_a_5xx()
    {
        var failures = new List<string>();
        using var client = fixture.Client();

        foreach (var endpoint in Endpoints)
        foreach (var (name, encoded) in HostileValues)
        {
            var inPath = !endpoint.Contains('?') || endpoint.IndexOf("{v}", StringComparison.Ordinal) < endpoint.IndexOf('?');
            if (inPath && encoded.Contains("%00"))
                continue; // a NUL in the path: see above
            var url = endpoint.Replace("{v}", encoded);
            using var response = await client.GetAsync(url);
            if ((int)response.StatusCode is < 400 or >= 500)
                failures.Add($"{endpoint} with {name}: {(int)response.StatusCode}");
        }

        // Parameters no endpoint reads are ignored, whatever they hold.
        foreach (var (name, encoded) in HostileValues)
        foreach (var path in new[] { "/api/stats/tracks", "/api/stats/cycle/current" })
        {
            using var response = await client.GetAsync($"{path}?{encoded}={encoded}");
            if ((int)response.StatusCode >= 500)
                failures.Add($"{path} with an unread parameter {name}: {(int)response.StatusCode}");
        }

        Assert.True(failures.Count == 0, $"{failures.Count} hostile requests were not refused with a 4xx:\n" + string.Join("\n", failures));
    }

    private HttpClient WithKey(string key)
    {
        var client = fixture.Host.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("X-Api-Key", key);
        return client;
    }
}
