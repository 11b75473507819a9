using Telemetry.ServiceDefaults;
using Telemetry.StatsApi.Http;
using Telemetry.StatsApi.Stats;

namespace Telemetry.StatsApi;

public partial class Program
{
    public static Task Main(string[] args) => Build(args).RunAsync();

    /// <summary>The whole service, built but not started (the benchmark hosts it on Kestrel in its own process).</summary>
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults("stats-api");
        builder.AddStatsApi();

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.UseStatsApi();
        app.MapStatsApi();
        app.MapApiDocuments();
        return app;
    }
}
