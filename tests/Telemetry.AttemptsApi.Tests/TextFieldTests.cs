using System.Net;
using System.Text;
using Xunit;

namespace Telemetry.AttemptsApi.Tests;

/// <summary>
/// Every text field of every endpoint refuses what PostgreSQL cannot store (NUL, unpaired surrogates) and the other
/// control characters with a 400 naming the field, before anything is written.
/// </summary>
public sealed class TextFieldTests(AttemptsApiFixture api) : IClassFixture<AttemptsApiFixture>, IAsyncLifetime
{
    private const string Submit = "/api/train-attempts/submit";
    private TestTrack _track = null!;

    public async Task InitializeAsync() => _track = await api.CreateTrackAsync(questions: 2);

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>JSON string contents (escapes as a client would send them) and the message each must get.</summary>
    public static TheoryData<string, string> Values => new()
    {
        { @"\u0000", "must not contain control characters (U+0000)." },
        { @"answer\u0000", "must not contain control characters (U+0000)." },
        { @"a\u0001b", "must not contain control characters (U+0001)." },
        { @"a\tb", "must not contain control characters (U+0009)." },
        { @"a\nb", "must not contain control characters (U+000A)." },
        { @"a\u001fb", "must not contain control characters (U+001F)." },
        { @"a\u007fb", "must not contain control characters (U+007F)." },
        { @"a\u0085b", "must not contain control characters (U+0085)." },
        { @"a\ud800b", "must not contain unpaired UTF-16 surrogates." },
        { @"a\udc00", "must not contain unpaired UTF-16 surrogates." },
        { @"\ud800", "must not contain unpaired UTF-16 surrogates." },
    };

    public static IEnumerable<object[]> SubmitFields =>
        from name in new[] { "attemptId", "trackId", "answers[1].questionId", "answers[1].selectedAnswer" }
        from value in Values
        select new[] { name, value[0], value[1] };

    public static IEnumerable<object[]> TrackFields =>
        from name in new[] { "title", "questions[1].questionId", "questions[1].correctAnswer" }
        from value in Values
        select new[] { name, value[0], value[1] };

    [Theory]
    [MemberData(nameof(SubmitFields))]
    public async Task A_submit_field_with_a_control_character_or_lone_surrogate_gets_a_400_naming_it_and_writes_nothing(string field, string value, string message)
    {
        var wallet = AttemptsApiFixture.NewWallet();
        var attemptId = Guid.NewGuid();
        var fields = new Dictionary<string, string>
        {
            ["attemptId"] = attemptId.ToString(),
            ["trackId"] = _track.TrackId.ToString(),
            ["answers[1].questionId"] = _track.QuestionIds[1].ToString(),
            ["answers[1].selectedAnswer"] = "answer-1",
        };
        fields[field] = value;
        var body = $$"""
            {"attemptId":"{{fields["attemptId"]}}","trackId":"{{fields["trackId"]}}","durationSec":60,"answers":[
              {"questionId":"{{_track.QuestionIds[0]}}","selectedAnswer":"answer-0"},
              {"questionId":"{{fields["answers[1].questionId"]}}","selectedAnswer":"{{fields["answers[1].selectedAnswer"]}}"}]}
            """;
        using var client = api.Learner(wallet);

        var response = await client.PostAsync(Submit, Json(body));

        await AssertRefusedAsync(response, field, message);
        Assert.Equal(0, await api.AttemptRowsAsync(attemptId));
        Assert.Equal(0, await api.OutboxRowsAsync(attemptId));
        Assert.Equal(0, await api.LearnerRowsAsync(wallet));
    }

    [Theory]
    [MemberData(nameof(TrackFields))]
    public async Task An_admin_track_field_with_a_control_character_or_lone_surrogate_gets_a_400_naming_it_and_writes_nothing(string field, string value, string message)
    {
        var trackId = Guid.NewGuid();
        var fields = new Dictionary<string, string>
        {
            ["title"] = "A track",
            ["questions[1].questionId"] = Guid.NewGuid().ToString(),
            ["questions[1].correctAnswer"] = "B",
        };
        fields[field] = value;
        var body = $$"""
            {"title":"{{fields["title"]}}","passThresholdPct":60,"questions":[
              {"questionId":"{{Guid.NewGuid()}}","correctAnswer":"A"},
              {"questionId":"{{fields["questions[1].questionId"]}}","correctAnswer":"{{fields["questions[1].correctAnswer"]}}"}]}
            """;
        using var admin = api.Admin();

        var response = await admin.PutAsync($"/api/admin/tracks/{trackId}", Json(body));

        await AssertRefusedAsync(response, field, message);
        Assert.Equal(0, await api.Database.ScalarAsync<long>("SELECT count(*) FROM tracks WHERE track_id = $1", trackId));
    }

    // A NUL in the path never reaches routing: ASP.NET Core's URL decoder refuses it (Kestrel answers 400).
    [Theory]
    [InlineData("%01", "must not contain control characters (U+0001).")]
    [InlineData("%7F", "must not contain control characters (U+007F).")]
    public async Task An_admin_track_id_in_the_path_with_a_control_character_gets_a_400_naming_it(string escaped, string message)
    {
        using var admin = api.Admin();

        var response = await admin.PutAsync($"/api/admin/tracks/{Guid.NewGuid()}{escaped}",
            Json($$"""{"title":"A track","passThresholdPct":60,"questions":[{"questionId":"{{Guid.NewGuid()}}","correctAnswer":"A"}]}"""));

        await AssertRefusedAsync(response, "trackId", message);
    }

    [Theory]
    [InlineData("startsAt", @"2026-01-01T00:00:00Z\u0000")]
    [InlineData("endsAt", @"2026-02-01T00:00:00Z\u0000")]
    [InlineData("startsAt", @"\ud800")]
    [InlineData("endsAt", @"2026-02-01\u0001")]
    public async Task An_admin_cycle_time_with_a_control_character_gets_a_400_naming_it_and_writes_nothing(string field, string value)
    {
        var times = new Dictionary<string, string> { ["startsAt"] = "2031-01-01T00:00:00Z", ["endsAt"] = "2031-02-01T00:00:00Z" };
        times[field] = value;
        using var admin = api.Admin();

        var response = await admin.PutAsync("/api/admin/cycles/7001", Json($$"""{"startsAt":"{{times["startsAt"]}}","endsAt":"{{times["endsAt"]}}"}"""));

        await ProblemAssert.NamesFieldAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Equal(0, await api.Database.ScalarAsync<long>("SELECT count(*) FROM cycles WHERE cycle_number = 7001"));
    }

    [Theory]
    [InlineData("%01")]
    [InlineData("7%1F")]
    public async Task An_admin_cycle_number_in_the_path_with_a_control_character_gets_a_400_naming_it(string cycleNumber)
    {
        using var admin = api.Admin();

        var response = await admin.PutAsync($"/api/admin/cycles/{cycleNumber}", Json("""{"startsAt":"2032-01-01T00:00:00Z","endsAt":"2032-02-01T00:00:00Z"}"""));

        await ProblemAssert.NamesFieldAsync(response, HttpStatusCode.BadRequest, "cycleNumber");
    }

    [Fact]
    public async Task Whitespace_around_a_title_is_trimmed_but_a_control_character_inside_it_is_not_allowed()
    {
        using var admin = api.Admin();
        string Track(string title) => $$"""{"title":"{{title}}","passThresholdPct":60,"questions":[{"questionId":"{{Guid.NewGuid()}}","correctAnswer":"A"}]}""";

        var trimmed = await admin.PutAsync($"/api/admin/tracks/{Guid.NewGuid()}", Json(Track("  Spaced  ")));
        var tabbed = await admin.PutAsync($"/api/admin/tracks/{Guid.NewGuid()}", Json(Track(@"\tTabbed")));

        Assert.Equal(HttpStatusCode.Created, trimmed.StatusCode);
        Assert.Contains("\"title\":\"Spaced\"", await trimmed.Content.ReadAsStringAsync());
        await AssertRefusedAsync(tabbed, "title", "must not contain control characters (U+0009).");
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string field, string message)
    {
        var problem = await ProblemAssert.NamesFieldAsync(response, HttpStatusCode.BadRequest, field);
        var messages = problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(m => m.GetString());
        Assert.Contains(message, messages);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
