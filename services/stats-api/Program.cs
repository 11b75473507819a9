using Telemetry.ServiceDefaults;
using Telemetry.StatsApi.Stats;

namespace Telemetry.StatsApi;

public partial class Program
{
    public static async Task Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults("stats-api");
        builder.AddStatsApi();

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapStatsApi();
        await app.RunAsync();
    }
}
