using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Telemetry.StatsApi.Stats;
using Xunit;
using static Telemetry.StatsApi.Tests.HttpAssert;

namespace Telemetry.StatsApi.Tests;

/// <summary>Questions come in pages of `limit`; the Link header leads to the next page until the last.</summary>
public sealed class PaginationTests(PaginationTests.ManyQuestionsFixture fixture) : IClassFixture<PaginationTests.ManyQuestionsFixture>
{
    /// <summary>The seed plus a track with more questions than the default page holds.</summary>
    public sealed class ManyQuestionsFixture : StatsApiFixture
    {
        public static readonly Guid BigTrack = Guid.Parse("33333333-3333-3333-3333-333333333333");
        public const int BigTrackQuestions = StatsApi.Stats.StatsApi.DefaultQuestionsPageSize + 7;

        protected override Task SeedMoreAsync() =>
            Database.ExecuteAsync($"""
                INSERT INTO question_aggregates (question_id, track_id, attempts_total, correct_total, duration_sum_sec, last_calculated_at)
                SELECT gen_random_uuid(), '{BigTrack}', i, i / 2, 10 * i, now() FROM generate_series(1, {BigTrackQuestions}) AS i
                """);
    }

    private readonly HttpClient _client = fixture.Client();

    [Fact]
    public async Task Following_the_next_links_visits_every_question_once_in_order()
    {
        var all = await _client.GetFromJsonAsync<List<QuestionStats>>($"/api/stats/questions?trackId={Seed.TrackA}");
        var seen = new List<QuestionStats>();
        string? next = $"/api/stats/questions?trackId={Seed.TrackA}&limit=2";
        var pages = 0;
        while (next is not null && pages++ < 10)
        {
            var response = await _client.GetAsync(next);
            var page = (await OkJsonAsync(response)).Deserialize<List<QuestionStats>>(JsonSerializerOptions.Web)!;
            Assert.InRange(page.Count, 1, 2);
            seen.AddRange(page);
            next = NextLink(response);
        }

        Assert.Equal(2, pages);
        Assert.Equal(all, seen);
    }

    [Fact]
    public async Task A_page_that_ends_exactly_at_the_last_question_has_no_next_link()
    {
        var response = await _client.GetAsync($"/api/stats/questions?trackId={Seed.TrackA}&limit=3");

        Assert.Equal(3, (await OkJsonAsync(response)).GetArrayLength());
        Assert.Null(NextLink(response));
    }

    [Fact]
    public async Task Without_a_limit_a_page_holds_the_default_number_and_links_to_the_rest()
    {
        var first = await _client.GetAsync($"/api/stats/questions?trackId={ManyQuestionsFixture.BigTrack}");
        Assert.Equal(StatsApi.Stats.StatsApi.DefaultQuestionsPageSize, (await OkJsonAsync(first)).GetArrayLength());
        var next = NextLink(first)!;
        Assert.Contains($"limit={StatsApi.Stats.StatsApi.DefaultQuestionsPageSize}", next);

        var second = await _client.GetAsync(next);

        Assert.Equal(7, (await OkJsonAsync(second)).GetArrayLength());
        Assert.Null(NextLink(second));
    }

    [Fact]
    public async Task The_largest_page_holds_up_to_the_documented_maximum()
    {
        var response = await _client.GetAsync($"/api/stats/questions?trackId={ManyQuestionsFixture.BigTrack}&limit={StatsApi.Stats.StatsApi.MaxQuestionsPageSize}");

        Assert.Equal(ManyQuestionsFixture.BigTrackQuestions, (await OkJsonAsync(response)).GetArrayLength());
        Assert.Null(NextLink(response));
    }

    [Fact]
    public async Task Pages_have_their_own_etags()
    {
        var first = await _client.GetAsync($"/api/stats/questions?trackId={Seed.TrackA}&limit=2");
        var second = await _client.GetAsync(NextLink(first)!);

        Assert.NotEqual(first.Headers.ETag, second.Headers.ETag);
    }

    private static string? NextLink(HttpResponseMessage response) =>
        Header(response, "Link") is { } link && Regex.Match(link, "^<([^>]+)>; rel=\"next\"$") is { Success: true } match
            ? match.Groups[1].Value
            : null;
}
