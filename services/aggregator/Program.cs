using Telemetry.EventProcessing;
using Telemetry.ServiceDefaults;

namespace Telemetry.Aggregator;

public partial class Program
{
    public static async Task Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults("aggregator");
        builder.AddAggregator();

        var app = builder.Build();
        if (await app.TryRunCommandAsync(args))
            return;
        app.MapDefaultEndpoints();
        await app.RunAsync();
    }
}
