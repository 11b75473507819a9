using Telemetry.AttemptsApi.Catalogue;
using Telemetry.AttemptsApi.Http;
using Telemetry.AttemptsApi.Submissions;
using Telemetry.ServiceDefaults;

namespace Telemetry.AttemptsApi;

public partial class Program
{
    public static async Task Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults(Extensions.ServiceName);
        builder.AddAttemptsApi();

        var app = builder.Build();
        app.MapDefaultEndpoints();
        // Explicit order: problem-details error pages wrap authentication, and the per-wallet limiter sees the wallet.
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapSubmitEndpoint();
        app.MapAdminApi();
        app.MapApiDocuments();
        await app.RunAsync();
    }
}
