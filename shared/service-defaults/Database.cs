using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Telemetry.ServiceDefaults.Failures;

namespace Telemetry.ServiceDefaults;

public static class Database
{
    public const string ConnectionStringName = "Telemetry";

    /// <summary>One pooled data source per service, connecting with that service's own least-privilege role.</summary>
    public static WebApplicationBuilder AddTelemetryDatabase(this WebApplicationBuilder builder, string applicationName)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(builder.Configuration.RequireConnectionString(ConnectionStringName))
        {
            ApplicationName = applicationName,
        }.ConnectionString;
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        builder.Services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgres", tags: [HealthTags.Ready]);
        return builder;
    }

    private sealed class PostgresHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var command = dataSource.CreateCommand("SELECT 1");
                await command.ExecuteScalarAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (FailureKind.IsOutage(ex))
            {
                return HealthCheckResult.Unhealthy("PostgreSQL is unreachable", ex);
            }
        }
    }
}
