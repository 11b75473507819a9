using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Telemetry.AttemptsApi.Auth;
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
        { "not yet valid", TestTokens.For("0xabc", expires: DateTime.UtcNow.AddHours(2)) },
        { "without a wallet claim", TestTokens.For(null) },
        { "with the wallet in another claim", TestTokens.For("0xabc", walletClaim: "sub") },
        { "not a JWT at all", "not-a-token" },
        { "unsigned (alg none)", HandMade("none", _ => []) },
        { "signed with HS384", HandMade("HS384", data => HMACSHA384.HashData(SigningKeyBytes, data)) },
        { "signed with HS512", HandMade("HS512", data => HMACSHA512.HashData(SigningKeyBytes, data)) },
    };

    public static TheoryData<string, string> UnusableWallets => new()
    {
        { "is empty", TestTokens.For("") },
        { "holds a NUL character", TestTokens.For("0xab\0cd") },
        { "holds an escape character", TestTokens.For("0xab\u001bcd") },
        { "holds a newline", TestTokens.For("0xab\ncd") },
        { "holds a space", TestTokens.For("0xab cd") },
        { "holds a non-ASCII letter", TestTokens.For("0xabé") },
        { "is 10,000 characters long", TestTokens.For(new string('a', 10_000)) },
        { "is one character over the limit", TestTokens.For(new string('a', AttemptsClaims.MaxWalletLength + 1)) },
        { "is a number", SignedWith(SecurityAlgorithms.HmacSha256, 12345) },
        { "is a list of wallets", SignedWith(SecurityAlgorithms.HmacSha256, new[] { "0xa", "0xb" }) },
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
        Assert.Equal("Bearer error=\"invalid_token\"", response.Headers.WwwAuthenticate.Single().ToString());
        Assert.True(0 == await api.AttemptRowsAsync(attemptId), $"nothing written for a token {because}");
    }

    [Theory]
    [MemberData(nameof(UnusableWallets))]
    public async Task A_submit_whose_token_wallet_claim_is_unusable_gets_a_401_problem_and_writes_nothing(string because, string token)
    {
        var track = await api.CreateTrackAsync();
        var attemptId = Guid.NewGuid();
        using var client = api.WithBearer(token);

        var response = await client.PostAsJsonAsync(SubmitUrl, track.Body(attemptId));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Contains("'wallet' claim", problem.GetProperty("detail").GetString());
        Assert.Equal("Bearer error=\"invalid_token\"", response.Headers.WwwAuthenticate.Single().ToString());
        Assert.True(0 == await api.AttemptRowsAsync(attemptId), $"nothing written for a wallet that {because}");
    }

    [Fact]
    public async Task A_wallet_of_the_longest_allowed_length_with_every_allowed_punctuation_is_stored_as_sent()
    {
        var track = await api.CreateTrackAsync();
        var wallet = (AttemptsApiFixture.NewWallet() + "._:@-").PadRight(AttemptsClaims.MaxWalletLength, 'Z');
        var attemptId = Guid.NewGuid();
        using var client = api.Learner(wallet);

        var response = await client.PostAsJsonAsync(SubmitUrl, track.Body(attemptId));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(wallet, await api.Database.ScalarAsync<string>("SELECT wallet_address FROM attempts WHERE attempt_id = $1", attemptId));
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

    private static readonly byte[] SigningKeyBytes = Encoding.UTF8.GetBytes(AttemptsApiFixture.SigningKey);

    private static string SignedWith(string algorithm, object wallet) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = AttemptsApiFixture.Issuer,
        Audience = AttemptsApiFixture.Audience,
        Claims = new Dictionary<string, object> { ["wallet"] = wallet },
        Expires = DateTime.UtcNow.AddHours(1),
        SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(SigningKeyBytes), algorithm),
    });

    /// <summary>A token built by hand, as an attacker would: any alg header, signed (or not) by <paramref name="sign"/>.</summary>
    private static string HandMade(string alg, Func<byte[], byte[]> sign)
    {
        static string Part(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var header = Part(Encoding.UTF8.GetBytes($$"""{"alg":"{{alg}}","typ":"JWT"}"""));
        var payload = Part(Encoding.UTF8.GetBytes($$"""{"iss":"{{AttemptsApiFixture.Issuer}}","aud":"{{AttemptsApiFixture.Audience}}","wallet":"0xabc","exp":{{exp}}}"""));
        return $"{header}.{payload}.{Part(sign(Encoding.ASCII.GetBytes($"{header}.{payload}")))}";
    }
}
