using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

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
        // AspNetCore.HealthChecks.NpgSql: SELECT 1 over the service's own data source (so its own role and pool).
        builder.Services.AddHealthChecks().AddNpgSql(name: "postgres", tags: [HealthTags.Ready], timeout: TimeSpan.FromSeconds(5));
        return builder;
    }
}
