using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Telemetry.Testing;

/// <summary>One service, hosted in-process on a test server, configured only through settings (as env vars would).</summary>
public sealed class ServiceHost<TProgram>(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<TProgram>
    where TProgram : class
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseDefaultServiceProvider(o => o.ValidateScopes = o.ValidateOnBuild = true);
        foreach (var (key, value) in settings)
            builder.UseSetting(key, value);
    }
}
