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

    /// <summary>Waits (a minute at most) until the service's /health/ready answers 200.</summary>
    public async Task WaitReadyAsync()
    {
        using var client = CreateClient();
        await Eventually.Until(
            async () => (await client.GetAsync("/health/ready")).StatusCode,
            status => status == System.Net.HttpStatusCode.OK,
            TimeSpan.FromSeconds(60),
            $"{typeof(TProgram).Namespace} to report ready");
    }
}
