using System.Net;
using System.Net.Http.Json;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.AttemptsApi.Tests;

public sealed class AuthenticationTests(AttemptsApiFixture api) : IClassFixture<AttemptsApiFixture>
{
    private const string SubmitUrl = "/api/train-attempts/submit";

    public static TheoryData<string, string> BadTokens => new()
    {
        { "signed with another key", TestTokens.For("0xabc", signingKey: "another-signing-key-with-at-least-32-characters") },
        { "from another issuer", TestTokens.For("0xabc", issuer: "https://evil.test") },
        { "for another audience", TestTokens.For("0xabc", audience: "stats-api") },
        { "expired", TestTokens.For("0xabc", expires: DateTime.UtcNow.AddMinutes(-10)) },
        { "without a wallet claim", TestTokens.For(null) },
        { "with the wallet in another claim", TestTokens.For("0xabc", walletClaim: "sub") },
        { "not a JWT at all", "not-a-token" },
        { "unsigned", UnsignedToken() },
    };

    [Fact]
    public async Task A_submit_without_a_token_gets_a_401_problem_and_writes_nothing()
    {
        var track = await api.CreateTrackAsync();
        var attemptId = Guid.NewGuid();
        using var client = api.Factory.CreateClient();

        var response = await client.PostAsJsonAsync(SubmitUrl, track.Body(attemptId));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(0, await api.AttemptRowsAsync(attemptId));
    }

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_submit_with_a_bad_token_gets_a_401_problem_and_writes_nothing(string because, string token)
    {
        var track = await api.CreateTrackAsync();
        var attemptId = Guid.NewGuid();
        using var client = api.WithBearer(token);

        var response = await client.PostAsJsonAsync(SubmitUrl, track.Body(attemptId));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.True(0 == await api.AttemptRowsAsync(attemptId), $"nothing written for a token {because}");
    }

    [Fact]
    public async Task The_wallet_comes_from_the_token_never_from_the_body()
    {
        var track = await api.CreateTrackAsync();
        var wallet = AttemptsApiFixture.NewWallet();
        var attemptId = Guid.NewGuid();
        using var client = api.Learner(wallet);

        var response = await client.PostAsJsonAsync(SubmitUrl, new
        {
            attemptId,
            trackId = track.TrackId,
            durationSec = 60,
            walletAddress = "0xspoofed",
            answers = new[] { new { questionId = track.QuestionIds[0], selectedAnswer = "answer-0" } },
        });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(wallet, await api.Database.ScalarAsync<string>("SELECT wallet_address FROM attempts WHERE attempt_id = $1", attemptId));
    }

    [Fact]
    public async Task The_admin_api_without_a_key_gets_a_401_problem()
    {
        using var client = api.Factory.CreateClient();

        await ProblemAssert.IsProblemAsync(await client.GetAsync("/api/admin/tracks"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_admin_api_with_a_wrong_key_gets_a_401_problem_and_changes_nothing()
    {
        using var client = api.Factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", AttemptsApiFixture.AdminKey + "x");
        var trackId = Guid.NewGuid();

        var response = await client.PutAsJsonAsync($"/api/admin/tracks/{trackId}", new
        {
            title = "Sneaky",
            passThresholdPct = 0,
            questions = new[] { new { questionId = Guid.NewGuid(), correctAnswer = "a" } },
        });

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal(0, await api.Database.ScalarAsync<long>("SELECT count(*) FROM tracks WHERE track_id = $1", trackId));
    }

    [Fact]
    public async Task A_learner_token_does_not_open_the_admin_api()
    {
        using var client = api.Learner(AttemptsApiFixture.NewWallet());

        await ProblemAssert.IsProblemAsync(await client.GetAsync("/api/admin/tracks"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_admin_key_does_not_open_the_submit_endpoint()
    {
        var track = await api.CreateTrackAsync();
        using var client = api.Admin();

        var response = await client.PostAsJsonAsync(SubmitUrl, track.Body(Guid.NewGuid()));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    private static string UnsignedToken()
    {
        static string Part(string json) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        return $"{Part("""{"alg":"none","typ":"JWT"}""")}.{Part($$"""{"iss":"{{AttemptsApiFixture.Issuer}}","aud":"{{AttemptsApiFixture.Audience}}","wallet":"0xabc","exp":{{exp}}}""")}.";
    }
}
