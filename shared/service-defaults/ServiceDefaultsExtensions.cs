using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Telemetry.ServiceDefaults;

public static class ServiceDefaultsExtensions
{
    /// <summary>Logging, tracing, metrics, problem details and the liveness check every service shares.</summary>
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder, string serviceName)
    {
        builder.Services.AddSingleton(ServiceIdentity.Create(serviceName));
        builder.AddObservability(serviceName);
        builder.Services.AddProblemDetails();
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [HealthTags.Live]);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        return builder;
    }

    /// <summary>/health/live answers while the process runs; /health/ready only when its database and broker answer.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = c => c.Tags.Contains(HealthTags.Live) });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(HealthTags.Ready) });
        return app;
    }
}

public static class HealthTags
{
    public const string Live = "live";
    public const string Ready = "ready";
}

/// <summary>Who is writing: used in audit rows and telemetry resources.</summary>
public sealed record ServiceIdentity(string Name, string Instance)
{
    public static ServiceIdentity Create(string name) =>
        new(name, Environment.GetEnvironmentVariable("SERVICE_INSTANCE") is { Length: > 0 } instance
            ? instance
            : $"{Environment.MachineName}:{Environment.ProcessId}");
}
