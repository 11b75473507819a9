using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.AttemptsApi.Tests;

/// <summary>The same API twice more: once over an unreachable PostgreSQL (503), once with a one-submit rate limit (429).</summary>
public sealed class OpenApiFixture : AttemptsApiFixture, IAsyncLifetime
{
    private readonly Lazy<WebApplicationFactory<Program>> _outage;
    private readonly Lazy<WebApplicationFactory<Program>> _tight;

    public OpenApiFixture()
    {
        _outage = new(() => Factory.WithWebHostBuilder(b =>
            b.UseSetting("ConnectionStrings:Telemetry", "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none;Timeout=2")
                // The relay's and the 503 handler's warnings about the unreachable database are expected here.
                .UseSetting("Logging:LogLevel:Default", "Error")));
        _tight = new(() => Factory.WithWebHostBuilder(b =>
            b.UseSetting("RateLimits:PerWalletBurst", "1").UseSetting("RateLimits:PerWalletPerMinute", "1")));
    }

    public WebApplicationFactory<Program> Outage => _outage.Value;
    public WebApplicationFactory<Program> Tight => _tight.Value;

    Task IAsyncLifetime.InitializeAsync() => InitializeAsync();

    // A factory derived from a derived one is not disposed with its parent: its relay would outlive the database.
    async Task IAsyncLifetime.DisposeAsync()
    {
        foreach (var factory in new[] { _outage, _tight }.Where(f => f.IsValueCreated))
            await factory.Value.DisposeAsync();
        await DisposeAsync();
    }
}

/// <summary>/openapi/v1.json describes every endpoint, and each answer it documents is one the API really gives.</summary>
public sealed class OpenApiTests(OpenApiFixture api) : IClassFixture<OpenApiFixture>
{
    /// <summary>Every operation with every status it answers; each row is produced by a real request below.</summary>
    private static readonly Dictionary<string, int[]> Answers = new()
    {
        ["POST /api/train-attempts/submit"] = [202, 400, 401, 404, 409, 413, 415, 429, 503],
        ["GET /api/admin/tracks"] = [200, 401, 503],
        ["GET /api/admin/tracks/{trackId}"] = [200, 400, 401, 404, 503],
        ["PUT /api/admin/tracks/{trackId}"] = [200, 201, 400, 401, 409, 413, 415, 503],
        ["GET /api/admin/cycles"] = [200, 401, 503],
        ["PUT /api/admin/cycles/{cycleNumber}"] = [200, 201, 400, 401, 409, 413, 415, 503],
    };

    public static TheoryData<string, int> RealAnswers()
    {
        var data = new TheoryData<string, int>();
        foreach (var (operation, statuses) in Answers)
            foreach (var status in statuses)
                data.Add(operation, status);
        return data;
    }

    public static TheoryData<string> Operations() => new(Answers.Keys);

    [Fact]
    public async Task The_document_lists_exactly_the_submit_and_admin_operations()
    {
        var paths = (await DocumentAsync()).GetProperty("paths");

        var operations = paths.EnumerateObject()
            .Where(p => p.Name.StartsWith("/api/", StringComparison.Ordinal))
            .SelectMany(p => p.Value.EnumerateObject().Select(o => $"{o.Name.ToUpperInvariant()} {p.Name}"))
            .Order();
        Assert.Equal(Answers.Keys.Order(), operations);
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Each_operation_documents_exactly_the_statuses_it_answers(string operation)
    {
        var responses = Operation(await DocumentAsync(), operation).GetProperty("responses");

        Assert.Equal(Answers[operation].Select(s => s.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order(),
            responses.EnumerateObject().Select(r => r.Name).Order());
        foreach (var problem in responses.EnumerateObject().Where(r => r.Name[0] is '4' or '5'))
            Assert.True(problem.Value.GetProperty("content").TryGetProperty("application/problem+json", out JsonElement _), problem.Name);
    }

    [Theory]
    [MemberData(nameof(RealAnswers))]
    public async Task Each_documented_status_is_what_a_real_request_gets(string operation, int status)
    {
        using var response = await SendAsync(operation, status);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{operation}: expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal(status >= 400 ? "application/problem+json" : "application/json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Submit_needs_the_bearer_token_and_admin_the_admin_key(string operation)
    {
        var security = Operation(await DocumentAsync(), operation).GetProperty("security");

        var scheme = Assert.Single(security.EnumerateArray().SelectMany(r => r.EnumerateObject()).Select(s => s.Name));
        Assert.Equal(operation.Contains("/admin/", StringComparison.Ordinal) ? "AdminKey" : "LearnerBearer", scheme);
    }

    [Fact]
    public async Task The_security_schemes_are_a_jwt_bearer_and_the_x_admin_key_header()
    {
        var schemes = (await DocumentAsync()).GetProperty("components").GetProperty("securitySchemes");

        var bearer = schemes.GetProperty("LearnerBearer");
        Assert.Equal(("http", "bearer", "JWT"),
            (bearer.GetProperty("type").GetString(), bearer.GetProperty("scheme").GetString(), bearer.GetProperty("bearerFormat").GetString()));
        var admin = schemes.GetProperty("AdminKey");
        Assert.Equal(("apiKey", "header", "X-Admin-Key"),
            (admin.GetProperty("type").GetString(), admin.GetProperty("in").GetString(), admin.GetProperty("name").GetString()));
    }

    [Theory]
    [InlineData("POST /api/train-attempts/submit", "attemptId,trackId,durationSec,answers")]
    [InlineData("PUT /api/admin/tracks/{trackId}", "title,passThresholdPct,questions")]
    [InlineData("PUT /api/admin/cycles/{cycleNumber}", "startsAt,endsAt")]
    public async Task Request_bodies_are_json_with_their_required_fields(string operation, string required)
    {
        var document = await DocumentAsync();
        var schema = Resolve(document, Operation(document, operation).GetProperty("requestBody").GetProperty("content")
            .GetProperty("application/json").GetProperty("schema"));

        Assert.Equal(required.Split(',').Order(), schema.GetProperty("required").EnumerateArray().Select(r => r.GetString()).Order());
        if (schema.GetProperty("properties").TryGetProperty("attemptId", out var attemptId))
            Assert.Equal("uuid", attemptId.GetProperty("format").GetString());
    }

    [Fact]
    public async Task Numbers_ids_and_retry_hints_are_documented_as_they_are_on_the_wire()
    {
        var document = await DocumentAsync();
        var schemas = document.GetProperty("components").GetProperty("schemas");

        Assert.Equal("integer", schemas.GetProperty("SubmitRequest").GetProperty("properties").GetProperty("durationSec").GetProperty("type").GetString());
        Assert.Equal("integer", schemas.GetProperty("SubmitResponse").GetProperty("properties").GetProperty("correctCount").GetProperty("type").GetString());
        var trackId = Operation(document, "GET /api/admin/tracks/{trackId}").GetProperty("parameters")[0].GetProperty("schema");
        Assert.Equal(("string", "uuid"), (trackId.GetProperty("type").GetString(), trackId.GetProperty("format").GetString()));
        var cycleNumber = Operation(document, "PUT /api/admin/cycles/{cycleNumber}").GetProperty("parameters")[0].GetProperty("schema");
        Assert.Equal(("integer", 1), (cycleNumber.GetProperty("type").GetString(), cycleNumber.GetProperty("minimum").GetInt32()));
        var responses = Operation(document, "POST /api/train-attempts/submit").GetProperty("responses");
        Assert.All(new[] { "429", "503" }, s => Assert.True(responses.GetProperty(s).GetProperty("headers").TryGetProperty("Retry-After", out JsonElement _), s));
    }

    [Fact]
    public Task The_reference_page_is_off_unless_switched_on() => ApiDocumentsAssert.ReferencePageIsOffUnlessSwitchedOnAsync(api.Factory);

    private async Task<JsonElement> DocumentAsync()
    {
        using var client = api.Factory.CreateClient();
        using var response = await client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private static JsonElement Operation(JsonElement document, string operation)
    {
        var (method, path) = (operation.Split(' ')[0].ToLowerInvariant(), operation.Split(' ')[1]);
        return document.GetProperty("paths").GetProperty(path).GetProperty(method);
    }

    private static JsonElement Resolve(JsonElement document, JsonElement schema) =>
        schema.TryGetProperty("$ref", out var reference)
            ? document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1])
            : schema;

    private async Task<HttpResponseMessage> SendAsync(string operation, int status)
    {
        var wallet = AttemptsApiFixture.NewWallet();
        var anonymous = api.Factory.CreateClient();
        var admin = api.Admin();
        var learner = api.Learner(wallet);
        var outage = api.Outage.CreateClient();
        outage.DefaultRequestHeaders.Add("X-Admin-Key", AttemptsApiFixture.AdminKey);
        outage.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.For(wallet));
        var cycle = Random.Shared.Next(1000, 2_000_000);
        var trackId = Guid.NewGuid();

        return (operation, status) switch
        {
            ("POST /api/train-attempts/submit", 202) => await learner.PostAsJsonAsync(Submit, (await api.CreateTrackAsync()).Body(Guid.NewGuid())),
            ("POST /api/train-attempts/submit", 400) => await learner.PostAsJsonAsync(Submit, new { }),
            ("POST /api/train-attempts/submit", 401) => await anonymous.PostAsJsonAsync(Submit, new { }),
            ("POST /api/train-attempts/submit", 404) => await learner.PostAsJsonAsync(Submit, new TestTrack(trackId, [Guid.NewGuid()]).Body(Guid.NewGuid())),
            ("POST /api/train-attempts/submit", 409) => await ConflictingSubmitAsync(learner),
            ("POST /api/train-attempts/submit", 413) => await learner.PostAsync(Submit, Json(new string(' ', 65 * 1024) + "{}")),
            ("POST /api/train-attempts/submit", 415) => await learner.PostAsync(Submit, new StringContent("{}", Encoding.UTF8, "text/plain")),
            ("POST /api/train-attempts/submit", 429) => await OverTheLimitAsync(wallet),
            ("POST /api/train-attempts/submit", 503) => await outage.PostAsJsonAsync(Submit, new TestTrack(trackId, [Guid.NewGuid()]).Body(Guid.NewGuid())),

            ("GET /api/admin/tracks", 200) => await admin.GetAsync("/api/admin/tracks"),
            ("GET /api/admin/tracks", 401) => await anonymous.GetAsync("/api/admin/tracks"),
            ("GET /api/admin/tracks", 503) => await outage.GetAsync("/api/admin/tracks"),

            ("GET /api/admin/tracks/{trackId}", 200) => await admin.GetAsync($"/api/admin/tracks/{(await api.CreateTrackAsync()).TrackId}"),
            ("GET /api/admin/tracks/{trackId}", 400) => await admin.GetAsync("/api/admin/tracks/not-a-uuid"),
            ("GET /api/admin/tracks/{trackId}", 401) => await anonymous.GetAsync($"/api/admin/tracks/{trackId}"),
            ("GET /api/admin/tracks/{trackId}", 404) => await admin.GetAsync($"/api/admin/tracks/{trackId}"),
            ("GET /api/admin/tracks/{trackId}", 503) => await outage.GetAsync($"/api/admin/tracks/{trackId}"),

            ("PUT /api/admin/tracks/{trackId}", 201) => await admin.PutAsJsonAsync($"/api/admin/tracks/{trackId}", Track(Guid.NewGuid())),
            ("PUT /api/admin/tracks/{trackId}", 200) => await PutTwiceAsync(admin, $"/api/admin/tracks/{trackId}", Track(Guid.NewGuid())),
            ("PUT /api/admin/tracks/{trackId}", 400) => await admin.PutAsJsonAsync($"/api/admin/tracks/{trackId}", new { }),
            ("PUT /api/admin/tracks/{trackId}", 401) => await anonymous.PutAsJsonAsync($"/api/admin/tracks/{trackId}", Track(Guid.NewGuid())),
            ("PUT /api/admin/tracks/{trackId}", 409) => await admin.PutAsJsonAsync($"/api/admin/tracks/{trackId}",
                Track((await api.CreateTrackAsync()).QuestionIds[0])),
            ("PUT /api/admin/tracks/{trackId}", 413) => await admin.PutAsync($"/api/admin/tracks/{trackId}", Json(new string(' ', 1025 * 1024) + "{}")),
            ("PUT /api/admin/tracks/{trackId}", 415) => await admin.PutAsync($"/api/admin/tracks/{trackId}", new StringContent("{}", Encoding.UTF8, "text/plain")),
            ("PUT /api/admin/tracks/{trackId}", 503) => await outage.PutAsJsonAsync($"/api/admin/tracks/{trackId}", Track(Guid.NewGuid())),

            ("GET /api/admin/cycles", 200) => await admin.GetAsync("/api/admin/cycles"),
            ("GET /api/admin/cycles", 401) => await anonymous.GetAsync("/api/admin/cycles"),
            ("GET /api/admin/cycles", 503) => await outage.GetAsync("/api/admin/cycles"),

            ("PUT /api/admin/cycles/{cycleNumber}", 201) => await admin.PutAsJsonAsync($"/api/admin/cycles/{cycle}", Cycle(cycle)),
            ("PUT /api/admin/cycles/{cycleNumber}", 200) => await PutTwiceAsync(admin, $"/api/admin/cycles/{cycle}", Cycle(cycle)),
            ("PUT /api/admin/cycles/{cycleNumber}", 400) => await admin.PutAsJsonAsync($"/api/admin/cycles/{cycle}", new { }),
            ("PUT /api/admin/cycles/{cycleNumber}", 401) => await anonymous.PutAsJsonAsync($"/api/admin/cycles/{cycle}", Cycle(cycle)),
            ("PUT /api/admin/cycles/{cycleNumber}", 409) => await OverlappingCycleAsync(admin, cycle),
            ("PUT /api/admin/cycles/{cycleNumber}", 413) => await admin.PutAsync($"/api/admin/cycles/{cycle}", Json(new string(' ', 1025 * 1024) + "{}")),
            ("PUT /api/admin/cycles/{cycleNumber}", 415) => await admin.PutAsync($"/api/admin/cycles/{cycle}", new StringContent("{}", Encoding.UTF8, "text/plain")),
            ("PUT /api/admin/cycles/{cycleNumber}", 503) => await outage.PutAsJsonAsync($"/api/admin/cycles/{cycle}", Cycle(cycle)),
            _ => throw new ArgumentOutOfRangeException(nameof(status), $"No request produces {status} for {operation}."),
        };
    }

    private const string Submit = "/api/train-attempts/submit";

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static object Track(Guid questionId) =>
        new { title = "OpenAPI", passThresholdPct = 60, questions = new[] { new { questionId, correctAnswer = "A" } } };

    // Each cycle number gets its own day, far from any other test's cycles.
    private static object Cycle(int number)
    {
        var startsAt = new DateTimeOffset(2200, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(number);
        return new { startsAt, endsAt = startsAt.AddDays(1) };
    }

    private async Task<HttpResponseMessage> ConflictingSubmitAsync(HttpClient learner)
    {
        var track = await api.CreateTrackAsync();
        var attemptId = Guid.NewGuid();
        (await learner.PostAsJsonAsync(Submit, track.Body(attemptId, correct: 0))).EnsureSuccessStatusCode();
        return await learner.PostAsJsonAsync(Submit, track.Body(attemptId, correct: 1));
    }

    private async Task<HttpResponseMessage> OverTheLimitAsync(string wallet)
    {
        using var client = api.Tight.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.For(wallet));
        await client.PostAsJsonAsync(Submit, new { });
        return await client.PostAsJsonAsync(Submit, new { });
    }

    private static async Task<HttpResponseMessage> PutTwiceAsync(HttpClient admin, string path, object body)
    {
        (await admin.PutAsJsonAsync(path, body)).EnsureSuccessStatusCode();
        return await admin.PutAsJsonAsync(path, body);
    }

    private static async Task<HttpResponseMessage> OverlappingCycleAsync(HttpClient admin, int number)
    {
        (await admin.PutAsJsonAsync($"/api/admin/cycles/{number}", Cycle(number))).EnsureSuccessStatusCode();
        var startsAt = new DateTimeOffset(2200, 1, 1, 12, 0, 0, TimeSpan.Zero).AddDays(number);
        return await admin.PutAsJsonAsync($"/api/admin/cycles/{number + 3_000_000}", new { startsAt, endsAt = startsAt.AddDays(1) });
    }
}
