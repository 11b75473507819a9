using System.Net;
using System.Net.Http.Headers;
using Xunit;
using static Telemetry.StatsApi.Tests.HttpAssert;

namespace Telemetry.StatsApi.Tests;

/// <summary>ETag and If-None-Match: 304 while the data is unchanged, 200 with a new ETag once it changed.</summary>
public sealed class ConditionalRequestTests(StatsApiFixture fixture) : IClassFixture<StatsApiFixture>
{
    private readonly HttpClient _client = fixture.Client();

    [Theory]
    [InlineData("/api/stats/tracks")]
    [InlineData("/api/stats/tracks/22222222-2222-2222-2222-222222222222")]
    [InlineData("/api/stats/tracks/22222222-2222-2222-2222-222222222222/daily?from=2026-11-01&to=2026-11-30")]
    [InlineData("/api/stats/questions?trackId=22222222-2222-2222-2222-222222222222")]
    [InlineData("/api/stats/cycle/current")]
    [InlineData("/api/stats/cycles/1")]
    public async Task An_unchanged_etag_gets_a_304_without_a_body_but_with_the_caching_headers(string path)
    {
        var first = await _client.GetAsync(path);
        await OkJsonAsync(first);
        var etag = first.Headers.ETag!;

        var again = await ConditionalGetAsync(path, etag.Tag);

        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        Assert.Empty(await again.Content.ReadAsByteArrayAsync());
        Assert.Equal(etag, again.Headers.ETag);
        Assert.Equal("private, max-age=2", Header(again, "Cache-Control"));
        Assert.Equal(Header(first, "X-Data-As-Of"), Header(again, "X-Data-As-Of"));
    }

    [Theory]
    [InlineData("W/{0}")]
    [InlineData("\"something-else\", {0}")]
    [InlineData("*")]
    public async Task If_none_match_compares_weakly_and_accepts_lists_and_a_star(string format)
    {
        var etag = (await _client.GetAsync("/api/stats/cycles/1")).Headers.ETag!.Tag;

        var again = await ConditionalGetAsync("/api/stats/cycles/1", string.Format(format, etag));

        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
    }

    [Fact]
    public async Task A_stale_etag_gets_the_full_body()
    {
        var response = await ConditionalGetAsync("/api/stats/tracks", "\"stale\"");

        await OkJsonAsync(response);
    }

    [Fact]
    public async Task Once_the_data_changes_the_old_etag_gets_a_200_with_the_new_numbers_and_a_new_etag()
    {
        var path = $"/api/stats/tracks/{Seed.TrackA}";
        var before = await _client.GetAsync(path);
        var etag = before.Headers.ETag!.Tag;
        Assert.Equal(HttpStatusCode.NotModified, (await ConditionalGetAsync(path, etag)).StatusCode);

        await fixture.Database.ExecuteAsync($"""
            UPDATE track_aggregates SET attempts_total = attempts_total + 1, answers_total = answers_total + 2, last_calculated_at = '2026-11-22T10:05:00.789Z'
            WHERE track_id = '{Seed.TrackA}';
            UPDATE rollup_state SET last_flush_at = '2030-01-01T10:05:00.789Z' WHERE instance = 'aggregator@one';
            """);
        var after = await ConditionalGetAsync(path, etag);

        var body = await OkJsonAsync(after);
        Assert.NotEqual(etag, after.Headers.ETag!.Tag);
        Assert.Equal((5, 12), (body.GetProperty("attemptsTotal").GetInt32(), body.GetProperty("answersTotal").GetInt32()));
        Assert.Equal(await fixture.AsOfAsync(), Header(after, "X-Data-As-Of"));
    }

    [Fact]
    public async Task A_newer_flush_that_changed_nothing_served_keeps_the_etag_and_the_304_carries_the_new_as_of()
    {
        var path = "/api/stats/cycles/1";
        var etag = (await _client.GetAsync(path)).Headers.ETag!.Tag;

        await fixture.Database.ExecuteAsync("UPDATE rollup_state SET last_flush_at = '2031-01-01T11:00:00.001Z' WHERE instance = 'aggregator@two'");
        var again = await ConditionalGetAsync(path, etag);

        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        Assert.Equal("2031-01-01T11:00:00.001Z", Header(again, "X-Data-As-Of"));
    }

    private Task<HttpResponseMessage> ConditionalGetAsync(string path, string ifNoneMatch)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        return _client.SendAsync(request);
    }
}

/// <summary>With the response cache on, one query serves every request for its duration.</summary>
public sealed class ResponseCacheTests(ResponseCacheTests.CachingFixture fixture) : IClassFixture<ResponseCacheTests.CachingFixture>
{
    public sealed class CachingFixture : StatsApiFixture
    {
        protected override IReadOnlyDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
        {
            ["StatsApiOptions:ResponseCacheDuration"] = "00:00:03",
            ["StatsApiOptions:ClientMaxAgeSeconds"] = "5",
        };
    }

    [Fact]
    public async Task A_change_shows_after_the_cache_duration_and_not_before()
    {
        var client = fixture.Client();
        var path = $"/api/stats/tracks/{Seed.TrackB}";
        var first = await client.GetAsync(path);
        var etag = first.Headers.ETag!.Tag;
        Assert.Equal("private, max-age=5", Header(first, "Cache-Control"));

        await fixture.Database.ExecuteAsync($"UPDATE track_aggregates SET attempts_total = 7 WHERE track_id = '{Seed.TrackB}'");
        var cached = await client.GetAsync(path);
        var changed = await Telemetry.Testing.Eventually.Until(
            () => client.GetAsync(path), r => r.Headers.ETag!.Tag != etag, TimeSpan.FromSeconds(10), "the cached answer to expire");

        Assert.Equal(etag, cached.Headers.ETag!.Tag);
        Assert.Equal(7, (await OkJsonAsync(changed)).GetProperty("attemptsTotal").GetInt32());
    }
}
