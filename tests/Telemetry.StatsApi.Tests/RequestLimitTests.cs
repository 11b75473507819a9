using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Xunit;

namespace Telemetry.StatsApi.Tests;

/// <summary>Kestrel's request limits, on a real socket (the in-memory test server does not enforce them).</summary>
public sealed class RequestLimitTests(RequestLimitTests.KestrelFixture fixture) : IClassFixture<RequestLimitTests.KestrelFixture>
{
    public sealed class KestrelFixture : StatsApiFixture
    {
        protected override void Configure(WebApplicationFactory<Program> factory) => factory.UseKestrel(0);
    }

    [Fact]
    public async Task Normal_requests_are_served_over_kestrel()
    {
        var response = await fixture.Client().GetAsync($"/api/stats/tracks/{Seed.TrackA}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task An_overlong_request_line_is_refused_with_414()
    {
        var response = await fixture.Client().GetAsync($"/api/stats/questions?trackId={Seed.TrackA}&padding={new string('x', 5000)}");

        Assert.Equal(HttpStatusCode.RequestUriTooLong, response.StatusCode);
    }

    [Fact]
    public async Task Oversized_headers_are_refused_with_431()
    {
        var client = fixture.Client();
        client.DefaultRequestHeaders.Add("X-Padding", new string('x', 17 * 1024));

        var response = await client.GetAsync("/api/stats/tracks");

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
    }
}
