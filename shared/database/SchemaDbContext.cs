using Microsoft.EntityFrameworkCore;

namespace Telemetry.Database;

/// <summary>
/// Carries the migrations of the whole database. Most of them are hand-written SQL (partitioning, exclusion
/// constraints, roles and grants), which EF's model cannot express. It maps no entities: services read and write
/// through their own contexts or plain Npgsql. New migrations: <c>dotnet ef migrations add NAME --project shared/database</c>
/// (through <see cref="SchemaDbContextFactory"/>).
/// </summary>
public sealed class SchemaDbContext(DbContextOptions<SchemaDbContext> options) : DbContext(options)
{
    /// <summary>The options the setup tool and the design-time tooling both use.</summary>
    public static DbContextOptions<SchemaDbContext> CreateOptions(string connectionString, Action<DbContextOptionsBuilder<SchemaDbContext>>? configure = null)
    {
        var builder = new DbContextOptionsBuilder<SchemaDbContext>().UseNpgsql(connectionString);
        configure?.Invoke(builder);
        return builder.Options;
    }
}
