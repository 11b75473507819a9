using Xunit;
using static Telemetry.StatsApi.Tests.HttpAssert;

namespace Telemetry.StatsApi.Tests;

/// <summary>Before the aggregator's first flush there is no "as of" to tell: the headers are absent, not invented.</summary>
public sealed class FreshnessTests(FreshnessTests.NeverFlushedFixture fixture) : IClassFixture<FreshnessTests.NeverFlushedFixture>
{
    public sealed class NeverFlushedFixture : StatsApiFixture
    {
        protected override Task SeedMoreAsync() => Database.ExecuteAsync("DELETE FROM rollup_state");
    }

    [Fact]
    public async Task Without_any_aggregator_flush_there_is_no_as_of_header()
    {
        var response = await fixture.Client().GetAsync("/api/stats/tracks");

        await OkJsonAsync(response);
        Assert.Null(Header(response, "X-Data-As-Of"));
        Assert.Null(Header(response, "Last-Modified"));
        Assert.NotNull(Header(response, "ETag"));
    }

    [Fact]
    public async Task The_newest_flush_of_any_aggregator_instance_is_the_as_of_time()
    {
        await fixture.Database.ExecuteAsync("""
            INSERT INTO rollup_state (instance, last_flush_at, events_applied) VALUES
                ('aggregator@a', '2026-11-22T12:00:00.250Z', 1), ('aggregator@b', '2026-11-22T12:00:03.999Z', 1), ('aggregator@c', '2026-11-22T11:00:00Z', 1)
            ON CONFLICT (instance) DO UPDATE SET last_flush_at = excluded.last_flush_at
            """);

        var response = await fixture.Client().GetAsync("/api/stats/cycles/1");

        Assert.Equal("2026-11-22T12:00:03.999Z", Header(response, "X-Data-As-Of"));
        Assert.Equal("Sun, 22 Nov 2026 12:00:03 GMT", Header(response, "Last-Modified"));
    }
}
