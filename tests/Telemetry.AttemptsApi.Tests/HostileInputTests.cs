using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace Telemetry.AttemptsApi.Tests;

/// <summary>
/// Invariant 5 and "a 5xx other than 503 is a bug", walked exhaustively: every field of every attempts-api endpoint,
/// and the body as a whole, given every hostile value. Each answer must be a 4xx and no table may gain a row.
/// </summary>
public sealed class HostileInputTests(AttemptsApiFixture api) : IClassFixture<AttemptsApiFixture>, IAsyncLifetime
{
    private static readonly string[] Tables = ["attempts", "outbox_messages", "learners", "tracks", "questions", "cycles"];
    private TestTrack _track = null!;

    public async Task InitializeAsync() => _track = await api.CreateTrackAsync(questions: 2);

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Raw JSON values, none of which is valid for any field (JSON null is left out: optional fields accept it).</summary>
    public static readonly IReadOnlyList<(string Name, string Json)> HostileValues =
    [
        ("NUL", "\"\\u0000\""),
        ("NUL inside", "\"answer-0\\u0000\""),
        ("control character", "\"a\\u0001b\""),
        ("escape sequence", "\"\\u001b[31mred\""),
        ("DEL", "\"a\\u007f\""),
        ("C1 control", "\"a\\u009b\""),
        ("unpaired high surrogate", "\"\\ud800\""),
        ("unpaired low surrogate", "\"x\\udc00y\""),
        ("reversed surrogate pair", "\"\\udfff\\ud800\""),
        ("huge string", "\"" + new string('x', 100_000) + "\""),
        ("huge NUL string", "\"" + string.Concat(Enumerable.Repeat("\\u0000", 20_000)) + "\""),
        ("true", "true"),
        ("object", "{}"),
        ("object with junk", "{\"\\u0000\":\"\\ud800\"}"),
        ("empty array", "[]"),
        ("1e400", "1e400"),
        ("-1e400", "-1e400"),
        ("fraction", "1.5"),
        ("huge integer", "123456789012345678901234567890"),
        ("deep array nesting", new string('[', 10_000) + new string(']', 10_000)),
        ("deep object nesting", string.Concat(Enumerable.Repeat("{\"a\":", 1_000)) + "0" + new string('}', 1_000)),
        ("10,000 zeros", "[" + string.Join(",", Enumerable.Repeat("0", 10_000)) + "]"),
        ("10,000 nulls", "[" + string.Join(",", Enumerable.Repeat("null", 10_000)) + "]"),
        ("10,000 NULs", "[" + string.Join(",", Enumerable.Repeat("\"\\u0000\"", 10_000)) + "]"),
        ("truncated", "{\"a\":"),
    ];

    [Fact]
    public async Task No_hostile_value_in_any_field_of_any_endpoint_gets_a_5xx_or_writes_a_row()
    {
        var before = await CountRowsAsync();
        var failures = new List<string>();
        using var learner = api.Learner(AttemptsApiFixture.NewWallet());
        using var admin = api.Admin();

        foreach (var (endpoint, method, url, template) in Endpoints())
        foreach (var field in Fields(template))
        foreach (var (name, value) in HostileValues)
        {
            var body = field == "body" ? value : template.Replace($"\"{{{field}}}\"", value);
            body = Fill(body);
            var client = endpoint == "submit" ? learner : admin;
            using var request = new HttpRequestMessage(method, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await client.SendAsync(request);
            if ((int)response.StatusCode is < 400 or >= 500)
                failures.Add($"{endpoint} {field} = {name}: {(int)response.StatusCode} {Truncate(await response.Content.ReadAsStringAsync())}");
        }

        foreach (var (name, value) in HostileStrings)
        {
            // ASP.NET Core's URL decoder refuses a NUL in the path before routing (Kestrel answers 400 itself; the
            // in-memory test server throws in the client), so the path gets the other values.
            if (!value.Contains('\0'))
            {
                await ExpectAsync(failures, $"track id in the path = {name}", admin, HttpMethod.Put, $"/api/admin/tracks/{Uri.EscapeDataString(value)}", ValidTrack());
                await ExpectAsync(failures, $"cycle number in the path = {name}", admin, HttpMethod.Put, $"/api/admin/cycles/{Uri.EscapeDataString(value)}", ValidCycle());
            }
            using var adminKey = Header("X-Admin-Key", value);
            await ExpectAsync(failures, $"X-Admin-Key = {name}", adminKey, HttpMethod.Put, $"/api/admin/tracks/{Guid.NewGuid()}", ValidTrack());
            using var bearer = Header("Authorization", "Bearer " + value);
            await ExpectAsync(failures, $"bearer token = {name}", bearer, HttpMethod.Post, "/api/train-attempts/submit", Fill(SubmitTemplate));
        }

        Assert.True(failures.Count == 0, $"{failures.Count} hostile requests were not refused with a 4xx:\n" + string.Join("\n", failures));
        Assert.Equal(before, await CountRowsAsync());
    }

    /// <summary>Hostile text for places that are not JSON: the path and headers.</summary>
    private static readonly IReadOnlyList<(string Name, string Value)> HostileStrings =
    [
        ("NUL", "\0"),
        ("NUL inside", "7\0"),
        ("control character", "\u0001"),
        ("DEL", "\u007f"),
        ("unpaired surrogate", "\ud800"),
        ("huge", new string('7', 10_000)),
        ("1e400", "1e400"),
    ];

    // Each quoted "{field}" is a placeholder: a hostile value in turn, a valid one (Fill) otherwise.
    private const string SubmitTemplate = """
        {"attemptId":"{attemptId}","trackId":"{trackId}","durationSec":"{durationSec}",
         "answers":["{answers[0]}",{"questionId":"{answers[1].questionId}","selectedAnswer":"{answers[1].selectedAnswer}"}]}
        """;

    private const string TrackTemplate = """
        {"title":"{title}","passThresholdPct":"{passThresholdPct}","reviewBandPct":"{reviewBandPct}",
         "minSecondsPerQuestion":"{minSecondsPerQuestion}",
         "questions":["{questions[0]}",{"questionId":"{questions[1].questionId}","correctAnswer":"{questions[1].correctAnswer}"}]}
        """;

    private const string CycleTemplate = """{"startsAt":"{startsAt}","endsAt":"{endsAt}"}""";

    private static IEnumerable<(string, HttpMethod, string, string)> Endpoints()
    {
        yield return ("submit", HttpMethod.Post, "/api/train-attempts/submit", SubmitTemplate);
        yield return ("admin track", HttpMethod.Put, $"/api/admin/tracks/{Guid.NewGuid()}", TrackTemplate);
        yield return ("admin cycle", HttpMethod.Put, "/api/admin/cycles/9001", CycleTemplate);
        // A whole list of answers or questions replaced at once.
        yield return ("submit", HttpMethod.Post, "/api/train-attempts/submit", """{"attemptId":"{attemptId}","trackId":"{trackId}","durationSec":60,"answers":"{answers}"}""");
        yield return ("admin track", HttpMethod.Put, $"/api/admin/tracks/{Guid.NewGuid()}", """{"title":"T","passThresholdPct":60,"questions":"{questions}"}""");
    }

    /// <summary>The template's placeholders, each in turn (the others get valid values), then the whole body.</summary>
    private static IEnumerable<string> Fields(string template)
    {
        foreach (Match match in Regex.Matches(template, "\"\\{([^}]+)\\}\""))
            yield return match.Groups[1].Value;
        yield return "body";
    }

    /// <summary>Valid values for every placeholder not replaced by a hostile one.</summary>
    private string Fill(string body) => body
        .Replace("\"{attemptId}\"", $"\"{Guid.NewGuid()}\"")
        .Replace("\"{trackId}\"", $"\"{_track.TrackId}\"")
        .Replace("\"{durationSec}\"", "60")
        .Replace("\"{answers[0]}\"", $$"""{"questionId":"{{_track.QuestionIds[0]}}","selectedAnswer":"answer-0"}""")
        .Replace("\"{answers[1].questionId}\"", $"\"{_track.QuestionIds[1]}\"")
        .Replace("\"{answers[1].selectedAnswer}\"", "\"answer-1\"")
        .Replace("\"{title}\"", "\"A track\"")
        .Replace("\"{passThresholdPct}\"", "60")
        .Replace("\"{reviewBandPct}\"", "10")
        .Replace("\"{minSecondsPerQuestion}\"", "2")
        .Replace("\"{questions[0]}\"", $$"""{"questionId":"{{Guid.NewGuid()}}","correctAnswer":"A"}""")
        .Replace("\"{questions[1].questionId}\"", $"\"{Guid.NewGuid()}\"")
        .Replace("\"{questions[1].correctAnswer}\"", "\"B\"")
        .Replace("\"{startsAt}\"", "\"2035-01-01T00:00:00Z\"")
        .Replace("\"{endsAt}\"", "\"2035-02-01T00:00:00Z\"");

    private static string ValidTrack() => $$"""{"title":"T","passThresholdPct":60,"questions":[{"questionId":"{{Guid.NewGuid()}}","correctAnswer":"A"}]}""";

    private static string ValidCycle() => """{"startsAt":"2036-01-01T00:00:00Z","endsAt":"2036-02-01T00:00:00Z"}""";

    private HttpClient Header(string name, string value)
    {
        var client = api.Factory.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
        return client;
    }

    private static async Task ExpectAsync(List<string> failures, string what, HttpClient client, HttpMethod method, string url, string body)
    {
        using var request = new HttpRequestMessage(method, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await client.SendAsync(request);
        if ((int)response.StatusCode is < 400 or >= 500)
            failures.Add($"{what}: {(int)response.StatusCode} {Truncate(await response.Content.ReadAsStringAsync())}");
    }

    private async Task<long[]> CountRowsAsync()
    {
        var counts = new long[Tables.Length];
        for (var i = 0; i < Tables.Length; i++)
            counts[i] = await api.Database.ScalarAsync<long>($"SELECT count(*) FROM {Tables[i]}");
        return counts;
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
