using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Telemetry.ServiceDefaults.Failures;

/// <summary>
/// Not ready while <see cref="OutageRetry"/> holds work. The postgres and rabbitmq checks see a dependency that is
/// down; this one also sees one that answers but refuses the work (a missing grant or table during a deployment, a
/// read-only standby), which a plain probe would call healthy.
/// </summary>
public sealed class OutageHealthCheck(OutageRetry outage) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(outage.Current is var (since, failure)
            ? HealthCheckResult.Unhealthy($"Work is held and retried since {since:O}: {failure}")
            : HealthCheckResult.Healthy("No work is held"));
}
