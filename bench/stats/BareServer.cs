using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Telemetry.StatsApi;

namespace Telemetry.Bench.Stats;

/// <summary>
/// The baseline: Kestrel with the stats API's own limits and routing, answering each path with a fixed body (a real
/// response of the API, so the same size), and nothing else: no auth, rate limiting, caching, telemetry or database.
/// </summary>
public static class BareServer
{
    public static WebApplication Build(IReadOnlyDictionary<string, byte[]> bodies)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(StatsApiExtensions.ApplyRequestLimits).UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        foreach (var (path, body) in bodies)
            app.MapGet(path, (HttpContext context) =>
            {
                context.Response.ContentType = "application/json; charset=utf-8";
                context.Response.ContentLength = body.Length;
                return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
            });
        return app;
    }
}
