using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Telemetry.Database;
using Xunit;

namespace Telemetry.UnitTests;

/// <summary>
/// What `dotnet ef migrations add NAME --project shared/database` relies on, checked without a database: the
/// design-time factory builds the context, the migrations are found in order, and the model snapshot matches the
/// model (so the next `migrations add` starts from an empty diff).
/// </summary>
public sealed class SchemaDesignTimeTests
{
    private static SchemaDbContext CreateThroughFactory() => new SchemaDbContextFactory().CreateDbContext([]);

    [Fact]
    public void The_design_time_factory_builds_an_npgsql_context_from_the_admin_connection_setting()
    {
        using var context = CreateThroughFactory();

        Assert.Equal("Npgsql.EntityFrameworkCore.PostgreSQL", context.Database.ProviderName);
        var configured = Environment.GetEnvironmentVariable(SchemaDbContextFactory.ConnectionStringVariable);
        var expected = string.IsNullOrWhiteSpace(configured) ? SchemaDbContextFactory.LocalDefaultConnectionString : configured;
        Assert.Equal(expected, context.Database.GetConnectionString());
    }

    [Fact]
    public void The_migrations_are_found_in_order_and_the_snapshot_has_no_pending_model_changes()
    {
        using var context = CreateThroughFactory();

        var migrations = context.Database.GetMigrations().ToList();
        Assert.Equal(["20261122140000_InitialSchema", "20261122180000_DashboardApiKeys"], migrations.Take(2));
        Assert.Equal(migrations.Order(StringComparer.Ordinal), migrations);

        var assembly = context.GetService<IMigrationsAssembly>();
        Assert.NotNull(assembly.ModelSnapshot);
        Assert.False(context.Database.HasPendingModelChanges(),
            "The model differs from Migrations/SchemaDbContextModelSnapshot.cs: add a migration with `dotnet ef migrations add NAME --project shared/database`.");
    }

    [Fact]
    public void The_schema_context_maps_no_entities_the_tables_live_in_the_migrations_sql()
    {
        using var context = CreateThroughFactory();

        Assert.Empty(context.Model.GetEntityTypes());
    }
}
