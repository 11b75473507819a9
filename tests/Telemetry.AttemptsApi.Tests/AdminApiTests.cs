using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Telemetry.AttemptsApi.Tests;

public sealed class AdminApiTests(AttemptsApiFixture api) : IClassFixture<AttemptsApiFixture>
{
    [Fact]
    public async Task Putting_a_new_track_creates_it_and_putting_it_again_replaces_its_settings_and_questions()
    {
        var trackId = Guid.NewGuid();
        Guid[] first = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()];
        Guid[] second = [first[2], Guid.NewGuid()];
        using var admin = api.Admin();

        var created = await admin.PutAsJsonAsync($"/api/admin/tracks/{trackId}", Track("Basics", 60, first));
        var replaced = await admin.PutAsJsonAsync($"/api/admin/tracks/{trackId}", Track("Basics v2", 80, second, reviewBandPct: 5, minSecondsPerQuestion: 0));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/api/admin/tracks/{trackId}", created.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        var stored = JsonDocument.Parse(await admin.GetStringAsync($"/api/admin/tracks/{trackId}")).RootElement;
        Assert.Equal("Basics v2", stored.GetProperty("title").GetString());
        Assert.Equal(80, stored.GetProperty("passThresholdPct").GetInt32());
        Assert.Equal(5, stored.GetProperty("reviewBandPct").GetInt32());
        Assert.Equal(0, stored.GetProperty("minSecondsPerQuestion").GetInt32());
        Assert.Equal(second, stored.GetProperty("questions").EnumerateArray().Select(q => q.GetProperty("questionId").GetGuid()));
        Assert.Equal(0, await api.Database.ScalarAsync<long>("SELECT count(*) FROM questions WHERE question_id = $1", first[0]));
    }

    [Fact]
    public async Task A_track_without_review_settings_gets_the_documented_defaults()
    {
        var trackId = Guid.NewGuid();
        using var admin = api.Admin();

        var response = await admin.PutAsJsonAsync($"/api/admin/tracks/{trackId}", new
        {
            title = "Defaults",
            passThresholdPct = 70,
            questions = new[] { new { questionId = Guid.NewGuid(), correctAnswer = "a" } },
        });

        var track = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(10, track.GetProperty("reviewBandPct").GetInt32());
        Assert.Equal(2, track.GetProperty("minSecondsPerQuestion").GetInt32());
    }

    [Fact]
    public async Task Listing_tracks_shows_each_with_its_question_count()
    {
        var track = await api.CreateTrackAsync(questions: 4);
        using var admin = api.Admin();

        var tracks = JsonDocument.Parse(await admin.GetStringAsync("/api/admin/tracks")).RootElement.EnumerateArray();

        var listed = tracks.Single(t => t.GetProperty("trackId").GetGuid() == track.TrackId);
        Assert.Equal(4, listed.GetProperty("questionCount").GetInt32());
    }

    public static TheoryData<string, string, string> InvalidTracks => new()
    {
        { "the title is missing", """{"passThresholdPct":60,"questions":[{"questionId":"{q}","correctAnswer":"a"}]}""", "title" },
        { "the title is too long", """{"title":"{long}","passThresholdPct":60,"questions":[{"questionId":"{q}","correctAnswer":"a"}]}""", "title" },
        { "the pass threshold is missing", """{"title":"T","questions":[{"questionId":"{q}","correctAnswer":"a"}]}""", "passThresholdPct" },
        { "the pass threshold is over 100", """{"title":"T","passThresholdPct":101,"questions":[{"questionId":"{q}","correctAnswer":"a"}]}""", "passThresholdPct" },
        { "the review band exceeds the threshold", """{"title":"T","passThresholdPct":20,"reviewBandPct":30,"questions":[{"questionId":"{q}","correctAnswer":"a"}]}""", "reviewBandPct" },
        { "the minimum seconds are negative", """{"title":"T","passThresholdPct":60,"minSecondsPerQuestion":-1,"questions":[{"questionId":"{q}","correctAnswer":"a"}]}""", "minSecondsPerQuestion" },
        { "there are no questions", """{"title":"T","passThresholdPct":60,"questions":[]}""", "questions" },
        { "a question id is malformed", """{"title":"T","passThresholdPct":60,"questions":[{"questionId":"q1","correctAnswer":"a"}]}""", "questions[0].questionId" },
        { "a question id repeats", """{"title":"T","passThresholdPct":60,"questions":[{"questionId":"{q}","correctAnswer":"a"},{"questionId":"{q}","correctAnswer":"b"}]}""", "questions[1].questionId" },
        { "a correct answer is missing", """{"title":"T","passThresholdPct":60,"questions":[{"questionId":"{q}"}]}""", "questions[0].correctAnswer" },
        { "the track id is malformed", """{"title":"T","passThresholdPct":60,"questions":[{"questionId":"{q}","correctAnswer":"a"}]}""", "trackId" },
        { "the body is not JSON", "title=T", "body" },
    };

    [Theory]
    [MemberData(nameof(InvalidTracks))]
    public async Task An_invalid_track_gets_a_400_problem_naming_the_field_and_writes_nothing(string because, string template, string field)
    {
        var trackId = field == "trackId" ? "not-a-uuid" : Guid.NewGuid().ToString();
        var body = template.Replace("{q}", Guid.NewGuid().ToString()).Replace("{long}", new string('t', 201));
        using var admin = api.Admin();

        var response = await admin.PutAsync($"/api/admin/tracks/{trackId}", new StringContent(body, Encoding.UTF8, "application/json"));

        await ProblemAssert.NamesFieldAsync(response, HttpStatusCode.BadRequest, field);
        Assert.True(0 == await api.Database.ScalarAsync<long>("SELECT count(*) FROM tracks WHERE track_id::text = $1", trackId), because);
    }

    [Fact]
    public async Task A_question_of_another_track_gets_a_409_problem_naming_it_and_changes_nothing()
    {
        var owner = await api.CreateTrackAsync(questions: 2);
        var trackId = Guid.NewGuid();
        using var admin = api.Admin();

        var response = await admin.PutAsJsonAsync($"/api/admin/tracks/{trackId}", Track("Thief", 50, [Guid.NewGuid(), owner.QuestionIds[1]]));

        await ProblemAssert.NamesFieldAsync(response, HttpStatusCode.Conflict, "questions[1].questionId");
        Assert.Equal(0, await api.Database.ScalarAsync<long>("SELECT count(*) FROM tracks WHERE track_id = $1", trackId));
        Assert.Equal(owner.TrackId, await api.Database.ScalarAsync<Guid>("SELECT track_id FROM questions WHERE question_id = $1", owner.QuestionIds[1]));
    }

    [Fact]
    public async Task Putting_a_cycle_creates_it_and_putting_it_again_moves_it()
    {
        var start = new DateTimeOffset(2040, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var admin = api.Admin();

        var created = await admin.PutAsJsonAsync("/api/admin/cycles/101", new { startsAt = start, endsAt = start.AddDays(7) });
        var moved = await admin.PutAsJsonAsync("/api/admin/cycles/101", new { startsAt = start.AddHours(2), endsAt = start.AddDays(8) });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        var cycle = JsonDocument.Parse(await admin.GetStringAsync("/api/admin/cycles")).RootElement.EnumerateArray()
            .Single(c => c.GetProperty("cycleNumber").GetInt32() == 101);
        Assert.Equal(start.AddHours(2), cycle.GetProperty("startsAt").GetDateTimeOffset());
        Assert.Equal(start.AddDays(8), cycle.GetProperty("endsAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task An_overlapping_cycle_gets_a_409_problem_naming_the_cycle_in_the_way()
    {
        var start = new DateTimeOffset(2041, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var admin = api.Admin();
        (await admin.PutAsJsonAsync("/api/admin/cycles/201", new { startsAt = start, endsAt = start.AddDays(10) })).EnsureSuccessStatusCode();

        var response = await admin.PutAsJsonAsync("/api/admin/cycles/202", new { startsAt = start.AddDays(9), endsAt = start.AddDays(20) });

        var problem = await ProblemAssert.NamesFieldAsync(response, HttpStatusCode.Conflict, "startsAt");
        Assert.Contains("cycle 201", problem.GetProperty("errors").GetProperty("startsAt")[0].GetString());
        Assert.Equal(0, await api.Database.ScalarAsync<long>("SELECT count(*) FROM cycles WHERE cycle_number = 202"));
    }

    [Fact]
    public async Task Adjacent_cycles_do_not_overlap()
    {
        var start = new DateTimeOffset(2042, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var admin = api.Admin();
        (await admin.PutAsJsonAsync("/api/admin/cycles/301", new { startsAt = start, endsAt = start.AddDays(10) })).EnsureSuccessStatusCode();

        var response = await admin.PutAsJsonAsync("/api/admin/cycles/302", new { startsAt = start.AddDays(10), endsAt = start.AddDays(20) });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("0", """{"startsAt":"2043-01-01T00:00:00Z","endsAt":"2043-01-02T00:00:00Z"}""", "cycleNumber")]
    [InlineData("first", """{"startsAt":"2043-01-01T00:00:00Z","endsAt":"2043-01-02T00:00:00Z"}""", "cycleNumber")]
    [InlineData("401", """{"endsAt":"2043-01-02T00:00:00Z"}""", "startsAt")]
    [InlineData("401", """{"startsAt":"2043-01-01T00:00:00Z"}""", "endsAt")]
    [InlineData("401", """{"startsAt":"2043-01-02T00:00:00Z","endsAt":"2043-01-01T00:00:00Z"}""", "endsAt")]
    [InlineData("401", """{"startsAt":"yesterday","endsAt":"2043-01-01T00:00:00Z"}""", "startsAt")]
    public async Task An_invalid_cycle_gets_a_400_problem_naming_the_field(string cycleNumber, string body, string field)
    {
        using var admin = api.Admin();

        var response = await admin.PutAsync($"/api/admin/cycles/{cycleNumber}", new StringContent(body, Encoding.UTF8, "application/json"));

        await ProblemAssert.NamesFieldAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Equal(0, await api.Database.ScalarAsync<long>("SELECT count(*) FROM cycles WHERE cycle_number = 401"));
    }

    private static object Track(string title, int passThresholdPct, Guid[] questions, int? reviewBandPct = null, int? minSecondsPerQuestion = null) => new
    {
        title,
        passThresholdPct,
        reviewBandPct,
        minSecondsPerQuestion,
        questions = questions.Select((id, i) => new { questionId = id, correctAnswer = $"answer-{i}" }),
    };
}
