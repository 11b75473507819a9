using Telemetry.ServiceDefaults;
using Telemetry.StatsApi.Auth;
using Telemetry.StatsApi.Stats;

namespace Telemetry.StatsApi;

public static class StatsApiExtensions
{
    public static WebApplicationBuilder AddStatsApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<DashboardKeys>();
        builder.Services.AddSingleton<ApiKeyFilter>();
        builder.Services.AddSingleton(TimeProvider.System);
        // Connects as telemetry_stats, a role that can only SELECT the aggregate tables and the cycle calendar.
        builder.AddTelemetryDatabase("stats-api");
        builder.Services.AddSingleton<StatsQueries>();
        return builder;
    }
}
