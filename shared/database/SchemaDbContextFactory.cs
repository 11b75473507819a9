using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Telemetry.Database;

/// <summary>
/// Lets EF's design-time tooling create the context without a running service:
/// <c>dotnet ef migrations add NAME --project shared/database</c>. Adding or listing migrations never connects; only
/// the commands that talk to a database (<c>database update</c>, <c>migrations list</c>) use the connection string.
/// </summary>
public sealed class SchemaDbContextFactory : IDesignTimeDbContextFactory<SchemaDbContext>
{
    /// <summary>The same setting the setup tool reads (<c>ConnectionStrings__Admin</c>).</summary>
    public const string ConnectionStringVariable = "ConnectionStrings__Admin";

    /// <summary>LOCAL DEVELOPMENT DEFAULT ONLY, used when the variable is unset: it holds no password and is never used by a service.</summary>
    public const string LocalDefaultConnectionString = "Host=localhost;Port=5432;Database=telemetry;Username=postgres";

    public SchemaDbContext CreateDbContext(string[] args)
    {
        var connectionString = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        if (string.IsNullOrWhiteSpace(connectionString))
            connectionString = LocalDefaultConnectionString;
        return new SchemaDbContext(SchemaDbContext.CreateOptions(connectionString));
    }
}
