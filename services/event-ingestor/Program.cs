using Telemetry.EventProcessing;
using Telemetry.ServiceDefaults;

namespace Telemetry.EventIngestor;

public partial class Program
{
    public static async Task Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults("event-ingestor");
        builder.AddEventIngestor();

        var app = builder.Build();
        if (await app.TryRunCommandAsync(args))
            return;
        app.MapDefaultEndpoints();
        await app.RunAsync();
    }
}
