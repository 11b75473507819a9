using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Telemetry.ServiceDefaults.Failures;
using Telemetry.ServiceDefaults.Logging;

namespace Telemetry.ServiceDefaults;

public static class ServiceDefaultsExtensions
{
    /// <summary>
    /// Logging, tracing, metrics, problem details (503 for an outage), the outage retry and the liveness check every service shares.
    /// </summary>
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder, string serviceName)
    {
        var identity = ServiceIdentity.Create(serviceName, builder.Configuration["SERVICE_INSTANCE"]);
        builder.Services.AddSingleton(identity);
        builder.AddStructuredLogging(identity);
        builder.AddObservability(identity);
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<OutageExceptionHandler>();
        builder.Services.AddValidatedOptions<OutageRetryOptions>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<OutageRetry>();
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [HealthTags.Live])
            .AddCheck<OutageHealthCheck>("outage", tags: [HealthTags.Ready]);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        return builder;
    }

    /// <summary>
    /// /health/live answers while the process runs; /health/ready answers 503 when a ready check is Unhealthy and 200
    /// when Healthy or Degraded. Both answer JSON naming each check's status and description.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseRequestLogging();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = c => c.Tags.Contains(HealthTags.Live), ResponseWriter = WriteJsonAsync });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(HealthTags.Ready), ResponseWriter = WriteJsonAsync });
        app.MapMetrics();
        return app;
    }

    private static Task WriteJsonAsync(HttpContext context, HealthReport report) =>
        context.Response.WriteAsJsonAsync(new HealthResponse(
            report.Status.ToString(),
            report.Entries.Select(e => new HealthCheckResponse(e.Key, e.Value.Status.ToString(), Describe(e.Value))).ToList()));

    /// <summary>The check's own words, or (the packaged checks give none on failure) its exception's type and innermost message.</summary>
    private static string? Describe(HealthReportEntry entry) =>
        entry.Description ?? (entry.Exception is { } ex ? $"{ex.GetType().Name}: {ex.GetBaseException().Message}" : null);

    private sealed record HealthResponse(string Status, IReadOnlyList<HealthCheckResponse> Checks);

    private sealed record HealthCheckResponse(string Name, string Status, string? Description);
}

public static class HealthTags
{
    public const string Live = "live";
    public const string Ready = "ready";
}

/// <summary>Who is writing: used in audit rows and telemetry resources.</summary>
public sealed record ServiceIdentity(string Name, string Instance)
{
    /// <param name="instance">SERVICE_INSTANCE when set; otherwise host name and process id.</param>
    public static ServiceIdentity Create(string name, string? instance) =>
        new(name, instance is { Length: > 0 } ? instance : $"{Environment.MachineName}:{Environment.ProcessId}");
}
