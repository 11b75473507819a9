using System.Net;
using System.Text.Json;
using Telemetry.Testing;
using Xunit;
using static Telemetry.StatsApi.Tests.HttpAssert;

namespace Telemetry.StatsApi.Tests;

/// <summary>/openapi/v1.json describes every endpoint, and what it says of each one is what the API does.</summary>
public sealed class OpenApiTests(StatsApiFixture fixture) : IClassFixture<StatsApiFixture>
{
    private const string Track = "11111111-1111-1111-1111-111111111111";

    /// <summary>Documented path → a real request to it.</summary>
    public static readonly TheoryData<string, string> Endpoints = new()
    {
        { "/api/stats/tracks", "/api/stats/tracks" },
        { "/api/stats/tracks/{trackId}", $"/api/stats/tracks/{Track}" },
        { "/api/stats/tracks/{trackId}/daily", $"/api/stats/tracks/{Track}/daily?from=2026-11-20&to=2026-11-22" },
        { "/api/stats/questions", $"/api/stats/questions?trackId={Track}" },
        { "/api/stats/cycle/current", "/api/stats/cycle/current" },
        { "/api/stats/cycles/{cycleNumber}", "/api/stats/cycles/1" },
    };

    [Fact]
    public async Task The_document_lists_exactly_the_statistics_endpoints()
    {
        var document = await DocumentAsync();

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).Where(p => p.StartsWith("/api/")).Order();
        Assert.Equal(Endpoints.Select(e => (string)e[0]).Order(), paths);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Each_endpoint_documents_its_key_its_answers_and_its_headers(string path, string _)
    {
        var operation = (await DocumentAsync()).GetProperty("paths").GetProperty(path).GetProperty("get");

        var responses = operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "200", "304", "401", "403", "429", "503" }, responses);
        Assert.True(operation.GetProperty("security")[0].TryGetProperty("DashboardApiKey", out JsonElement _));
        var headers = operation.GetProperty("responses").GetProperty("200").GetProperty("headers");
        Assert.All(new[] { "ETag", "Cache-Control", "X-Data-As-Of", "Last-Modified" }, h => Assert.True(headers.TryGetProperty(h, out JsonElement _), h));
        if (path.Contains('{') || path.Contains("questions"))
            Assert.Contains("400", responses);
    }

    [Fact]
    public async Task The_key_scheme_is_an_api_key_in_the_x_api_key_header()
    {
        var scheme = (await DocumentAsync()).GetProperty("components").GetProperty("securitySchemes").GetProperty("DashboardApiKey");

        Assert.Equal(("apiKey", "header", "X-Api-Key"),
            (scheme.GetProperty("type").GetString(), scheme.GetProperty("in").GetString(), scheme.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Parameters_are_described_with_their_real_types_and_bounds()
    {
        var paths = (await DocumentAsync()).GetProperty("paths");

        var questionsOperation = paths.GetProperty("/api/stats/questions").GetProperty("get").GetProperty("parameters").EnumerateArray().ToList();
        Assert.True(questionsOperation.Single(p => p.GetProperty("name").GetString() == "trackId").GetProperty("required").GetBoolean());
        Assert.False(questionsOperation.Single(p => p.GetProperty("name").GetString() == "limit").TryGetProperty("required", out JsonElement _));
        var questions = Parameters(paths.GetProperty("/api/stats/questions"));
        Assert.Equal(("string", "uuid"), (questions["trackId"].GetProperty("type").GetString(), questions["trackId"].GetProperty("format").GetString()));
        Assert.Equal(("integer", 1, 1000), (questions["limit"].GetProperty("type").GetString(),
            questions["limit"].GetProperty("minimum").GetInt32(), questions["limit"].GetProperty("maximum").GetInt32()));
        var daily = Parameters(paths.GetProperty("/api/stats/tracks/{trackId}/daily"));
        Assert.Equal("date", daily["from"].GetProperty("format").GetString());
        Assert.Equal("date", daily["to"].GetProperty("format").GetString());
        Assert.Equal("integer", Parameters(paths.GetProperty("/api/stats/cycles/{cycleNumber}"))["cycleNumber"].GetProperty("type").GetString());
    }

    [Fact]
    public async Task Totals_are_documented_as_plain_numbers_as_they_are_written()
    {
        var track = (await DocumentAsync()).GetProperty("components").GetProperty("schemas").GetProperty("TrackStats").GetProperty("properties");

        Assert.Equal("integer", track.GetProperty("attemptsTotal").GetProperty("type").GetString());
        Assert.Equal("number", track.GetProperty("accuracyPct").GetProperty("type").GetString());
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task The_documented_200_body_has_the_fields_the_endpoint_returns(string path, string request)
    {
        var document = await DocumentAsync();
        var schema = document.GetProperty("paths").GetProperty(path).GetProperty("get").GetProperty("responses").GetProperty("200")
            .GetProperty("content").GetProperty("application/json").GetProperty("schema");
        var isArray = schema.TryGetProperty("type", out var type) && type.GetString() == "array";
        var item = Resolve(document, isArray ? schema.GetProperty("items") : schema);

        var body = await OkJsonAsync(await fixture.Client().GetAsync(request));

        Assert.Equal(isArray ? JsonValueKind.Array : JsonValueKind.Object, body.ValueKind);
        var sample = isArray ? body[0] : body;
        Assert.Equal(item.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(), PropertyNames(sample).Order());
    }

    [Fact]
    public Task The_reference_page_is_off_unless_switched_on() => ApiDocumentsAssert.ReferencePageIsOffUnlessSwitchedOnAsync(fixture.Host);

    private async Task<JsonElement> DocumentAsync() =>
        await OkJsonAsync(await fixture.Client(key: null).GetAsync("/openapi/v1.json"));

    private static Dictionary<string, JsonElement> Parameters(JsonElement pathItem) =>
        pathItem.GetProperty("get").GetProperty("parameters").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("schema"));

    private static JsonElement Resolve(JsonElement document, JsonElement schema) =>
        schema.TryGetProperty("$ref", out var reference)
            ? document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1])
            : schema;
}
