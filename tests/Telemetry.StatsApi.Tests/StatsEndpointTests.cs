using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Telemetry.StatsApi.Stats;
using Xunit;
using static Telemetry.StatsApi.Tests.HttpAssert;

namespace Telemetry.StatsApi.Tests;

/// <summary>Each endpoint's body: exactly the brief's fields, in camelCase, with the seeded numbers.</summary>
public sealed class StatsEndpointTests(StatsApiFixture fixture) : IClassFixture<StatsApiFixture>
{
    private static readonly string[] TrackFields =
        ["trackId", "attemptsTotal", "answersTotal", "correctTotal", "accuracyPct", "avgDurationSec", "lastCalculatedAt"];
    private static readonly string[] QuestionFields =
        ["questionId", "trackId", "attemptsTotal", "correctTotal", "accuracyPct", "avgDurationSec", "lastCalculatedAt"];
    private static readonly string[] CycleFields =
        ["cycleNumber", "startsAt", "endsAt", "attemptsTotal", "answersTotal", "correctTotal", "accuracyPct", "lastCalculatedAt"];
    private static readonly string[] DayFields =
        ["trackId", "day", "attemptsTotal", "answersTotal", "correctTotal", "accuracyPct", "avgDurationSec", "lastCalculatedAt"];

    private readonly HttpClient _client = fixture.Client();

    [Fact]
    public async Task Tracks_is_a_plain_array_of_every_track_with_the_brief_fields_and_totals()
    {
        var body = await OkJsonAsync(await _client.GetAsync("/api/stats/tracks"));

        Assert.Equal(JsonValueKind.Array, body.ValueKind);
        Assert.All(body.EnumerateArray(), track => Assert.Equal(TrackFields, PropertyNames(track)));
        var tracks = body.Deserialize<List<TrackStats>>(JsonSerializerOptions.Web)!;
        Assert.Equal([Seed.TrackA, Seed.TrackB], tracks.Select(t => t.TrackId));
        Assert.Equal(new TrackStats(Seed.TrackA, 4, 10, 7, 70f, 75f, Seed.CalculatedAt), tracks[0]);
        Assert.Equal((1L, 3L, 0L, 0f, 20f), (tracks[1].AttemptsTotal, tracks[1].AnswersTotal, tracks[1].CorrectTotal, tracks[1].AccuracyPct, tracks[1].AvgDurationSec));
    }

    [Fact]
    public async Task One_track_has_the_same_fields_and_totals_as_in_the_list()
    {
        var body = await OkJsonAsync(await _client.GetAsync($"/api/stats/tracks/{Seed.TrackA}"));

        Assert.Equal(TrackFields, PropertyNames(body));
        Assert.Equal(new TrackStats(Seed.TrackA, 4, 10, 7, 70f, 75f, Seed.CalculatedAt), body.Deserialize<TrackStats>(JsonSerializerOptions.Web));
    }

    [Fact]
    public async Task An_unknown_track_is_a_404_problem_that_still_says_as_of_when()
    {
        var response = await _client.GetAsync($"/api/stats/tracks/{Seed.UnknownTrack}");

        var problem = await ProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Contains(Seed.UnknownTrack.ToString(), problem.GetProperty("detail").GetString());
        Assert.Equal(Seed.AsOf, Header(response, "X-Data-As-Of"));
        await ProblemAsync(await _client.GetAsync($"/api/stats/tracks/{Seed.UnknownTrack}/daily?from=2026-11-01&to=2026-11-02"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Questions_lists_the_tracks_questions_with_the_brief_fields_and_totals()
    {
        var body = await OkJsonAsync(await _client.GetAsync($"/api/stats/questions?trackId={Seed.TrackA}"));

        Assert.All(body.EnumerateArray(), question => Assert.Equal(QuestionFields, PropertyNames(question)));
        var questions = body.Deserialize<List<QuestionStats>>(JsonSerializerOptions.Web)!;
        Assert.Equal(Seed.QuestionsA, questions.Select(q => q.QuestionId));
        Assert.All(questions, q => Assert.Equal(Seed.TrackA, q.TrackId));
        Assert.Equal((4L, 3L, 75f, 75f), (questions[0].AttemptsTotal, questions[0].CorrectTotal, questions[0].AccuracyPct, questions[0].AvgDurationSec));
        Assert.Equal((4L, 2L, 50f), (questions[1].AttemptsTotal, questions[1].CorrectTotal, questions[1].AccuracyPct));
        Assert.Equal((2L, 2L, 100f, 60f), (questions[2].AttemptsTotal, questions[2].CorrectTotal, questions[2].AccuracyPct, questions[2].AvgDurationSec));
    }

    [Fact]
    public async Task Questions_of_a_track_without_aggregates_is_an_empty_array()
    {
        var body = await OkJsonAsync(await _client.GetAsync($"/api/stats/questions?trackId={Seed.UnknownTrack}"));

        Assert.Equal("[]", body.GetRawText());
    }

    [Fact]
    public async Task Daily_returns_every_day_of_the_range_in_order_zero_filled()
    {
        var body = await OkJsonAsync(await _client.GetAsync($"/api/stats/tracks/{Seed.TrackA}/daily?from=2026-11-19&to=2026-11-23"));

        Assert.All(body.EnumerateArray(), day => Assert.Equal(DayFields, PropertyNames(day)));
        var days = body.Deserialize<List<TrackDayStats>>(JsonSerializerOptions.Web)!;
        Assert.Equal(["2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"], days.Select(d => d.Day.ToString("yyyy-MM-dd")));
        Assert.All(days, d => Assert.Equal(Seed.TrackA, d.TrackId));
        Assert.Equal(new TrackDayStats(Seed.TrackA, new DateOnly(2026, 11, 20), 1, 3, 2, 66.67f, 60f, DateTimeOffset.Parse("2026-11-20T12:00:00Z")), days[1]);
        Assert.Equal(new TrackDayStats(Seed.TrackA, new DateOnly(2026, 11, 22), 3, 7, 5, 71.43f, 80f, Seed.CalculatedAt), days[3]);
        foreach (var empty in new[] { days[0], days[2], days[4] })
            Assert.Equal((0L, 0L, 0L, 0f, 0f, (DateTimeOffset?)null),
                (empty.AttemptsTotal, empty.AnswersTotal, empty.CorrectTotal, empty.AccuracyPct, empty.AvgDurationSec, empty.LastCalculatedAt));
        Assert.Equal((4L, 10L, 7L), (days.Sum(d => d.AttemptsTotal), days.Sum(d => d.AnswersTotal), days.Sum(d => d.CorrectTotal)));
    }

    [Fact]
    public async Task Daily_accepts_a_single_day_and_the_longest_allowed_range()
    {
        var one = await OkJsonAsync(await _client.GetAsync($"/api/stats/tracks/{Seed.TrackA}/daily?from=2026-11-22&to=2026-11-22"));
        var longest = await OkJsonAsync(await _client.GetAsync($"/api/stats/tracks/{Seed.TrackA}/daily?from=2025-11-23&to=2026-11-23"));

        Assert.Equal(1, one.GetArrayLength());
        Assert.Equal(StatsApi.Stats.StatsApi.MaxDailyRangeDays, longest.GetArrayLength());
    }

    [Fact]
    public async Task The_current_cycle_is_the_one_containing_now_with_its_totals()
    {
        var body = await OkJsonAsync(await _client.GetAsync("/api/stats/cycle/current"));

        Assert.Equal(CycleFields, PropertyNames(body));
        var cycle = body.Deserialize<CycleStats>(JsonSerializerOptions.Web)!;
        Assert.Equal((2, 2L, 5L, 3L, 60f, (DateTimeOffset?)Seed.CalculatedAt),
            (cycle.CycleNumber, cycle.AttemptsTotal, cycle.AnswersTotal, cycle.CorrectTotal, cycle.AccuracyPct, cycle.LastCalculatedAt));
        Assert.InRange(DateTimeOffset.UtcNow, cycle.StartsAt, cycle.EndsAt);
    }

    [Fact]
    public async Task A_cycle_by_number_has_its_dates_and_totals()
    {
        var cycle = await _client.GetFromJsonAsync<CycleStats>("/api/stats/cycles/1");

        Assert.Equal(new CycleStats(1, DateTimeOffset.Parse("2026-10-01T00:00:00Z"), DateTimeOffset.Parse("2026-11-01T00:00:00Z"), 2, 5, 4, 80f,
            DateTimeOffset.Parse("2026-10-30T00:00:00Z")), cycle);
    }

    [Fact]
    public async Task A_cycle_without_applied_events_has_zero_totals_and_no_last_calculated_at()
    {
        var body = await OkJsonAsync(await _client.GetAsync("/api/stats/cycles/3"));

        Assert.Equal(CycleFields, PropertyNames(body));
        Assert.Equal(JsonValueKind.Null, body.GetProperty("lastCalculatedAt").ValueKind);
        var cycle = body.Deserialize<CycleStats>(JsonSerializerOptions.Web)!;
        Assert.Equal((3, 0L, 0L, 0L, 0f), (cycle.CycleNumber, cycle.AttemptsTotal, cycle.AnswersTotal, cycle.CorrectTotal, cycle.AccuracyPct));
    }

    [Fact]
    public async Task An_unknown_cycle_is_a_404_problem()
    {
        await ProblemAsync(await _client.GetAsync("/api/stats/cycles/4"), HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("/api/stats/tracks")]
    [InlineData("/api/stats/tracks/11111111-1111-1111-1111-111111111111")]
    [InlineData("/api/stats/tracks/11111111-1111-1111-1111-111111111111/daily?from=2026-11-01&to=2026-11-30")]
    [InlineData("/api/stats/questions?trackId=11111111-1111-1111-1111-111111111111")]
    [InlineData("/api/stats/cycle/current")]
    [InlineData("/api/stats/cycles/1")]
    public async Task Every_response_says_as_of_which_aggregator_flush_its_data_is(string path)
    {
        var response = await _client.GetAsync(path);

        await OkJsonAsync(response);
        Assert.Equal(Seed.AsOf, Header(response, "X-Data-As-Of"));
        Assert.Equal(Seed.CalculatedAt.AddTicks(-Seed.CalculatedAt.Ticks % TimeSpan.TicksPerSecond), response.Content.Headers.LastModified);
        Assert.Equal("private, max-age=2", Header(response, "Cache-Control"));
        Assert.Matches("^\"[A-Za-z0-9_-]{22}\"$", response.Headers.ETag?.ToString());
    }
}
