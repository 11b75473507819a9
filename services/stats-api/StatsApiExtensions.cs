using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Telemetry.ServiceDefaults;
using Telemetry.StatsApi.Auth;
using Telemetry.StatsApi.Http;
using Telemetry.StatsApi.Stats;

namespace Telemetry.StatsApi;

public static class StatsApiExtensions
{
    public static WebApplicationBuilder AddStatsApi(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(ApplyRequestLimits);
        builder.Services.AddValidatedOptions<StatsApiOptions>();
        builder.Services.AddValidatedOptions<DashboardKeys>();
        builder.Services.AddSingleton(TimeProvider.System);
        // Numbers are written as numbers; the web default would also read them from strings, and the OpenAPI schema says so.
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict);
        // Every refused key would otherwise log a line at Information: a flood of bad keys must not flood the logs.
        builder.Logging.AddFilter(typeof(ApiKeyAuthenticationHandler).FullName, LogLevel.Warning);
        // Connects as telemetry_stats, a role that can only SELECT the aggregate tables, the cycle calendar and the
        // dashboard keys; every query also runs in a READ ONLY transaction.
        builder.AddTelemetryDatabase("stats-api");
        builder.Services.AddSingleton<StatsQueries>();
        builder.Services.AddSingleton<SnapshotCache>();
        builder.Services.AddDashboardKeyAuthentication();
        builder.Services.AddPerKeyRateLimiting();
        builder.Services.AddStatsOpenApi();
        return builder;
    }

    /// <summary>Authentication, then the per-key rate limiter (which needs to know the key), then authorization.</summary>
    public static WebApplication UseStatsApi(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        return app;
    }

    /// <summary>
    /// The API only answers GETs with small query strings and headers: anything larger is refused by Kestrel before it
    /// costs more (414 for a long request line, 431 for large headers; no endpoint reads a body, and one that did would
    /// get 413 past 1 KB). Public so the benchmark's bare endpoint runs with exactly the same settings.
    /// </summary>
    public static void ApplyRequestLimits(KestrelServerOptions kestrel)
    {
        kestrel.AddServerHeader = false;
        kestrel.Limits.MaxRequestBodySize = 1024;
        kestrel.Limits.MaxRequestLineSize = 4 * 1024;
        kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
        kestrel.Limits.MaxRequestHeaderCount = 50;
        kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
        kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(60);
        kestrel.Limits.MaxConcurrentConnections = 2000;
    }
}
