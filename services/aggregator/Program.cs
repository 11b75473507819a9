using Telemetry.Aggregator.Reconciliation;
using Telemetry.EventProcessing;
using Telemetry.ServiceDefaults;

namespace Telemetry.Aggregator;

public partial class Program
{
    public static async Task<int> Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults("aggregator");
        builder.AddAggregator();

        var app = builder.Build();
        if (await ReconcileCommand.TryRunAsync(app, args) is { } exitCode)
            return exitCode;
        if (await app.TryRunCommandAsync(args))
            return 0;
        app.MapDefaultEndpoints();
        await app.RunAsync();
        // The bus watchdog sets 70 ("restart me") before it stops the host; a plain return 0 would hide it from the supervisor.
        return Environment.ExitCode;
    }
}
