using Npgsql;
using Telemetry.Database;

namespace Telemetry.Testing;

/// <summary>A fresh, fully migrated database per fixture, dropped afterwards.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    // Roles are cluster-wide: one password per test run, and one migration at a time (ALTER ROLE races otherwise).
    private static readonly string RolePassword = "test-" + Guid.NewGuid().ToString("N");
    private static readonly SemaphoreSlim MigrationGate = new(1, 1);

    private TestDatabase(string name, string adminConnectionString)
    {
        Name = name;
        AdminConnectionString = adminConnectionString;
    }

    public string Name { get; }
    public string AdminConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N");
        await using (var server = NpgsqlDataSource.Create(TestServers.PostgresAdmin))
        await using (var create = server.CreateCommand($"CREATE DATABASE {name}"))
            await create.ExecuteNonQueryAsync();

        var admin = new NpgsqlConnectionStringBuilder(TestServers.PostgresAdmin) { Database = name, Pooling = false }.ConnectionString;
        await MigrationGate.WaitAsync();
        try
        {
            await SchemaMigrator.MigrateAsync(admin);
            await SchemaMigrator.SetRolePasswordsAsync(admin, DatabaseRoles.All.ToDictionary(r => r, _ => RolePassword));
        }
        finally
        {
            MigrationGate.Release();
        }
        return new TestDatabase(name, admin);
    }

    /// <summary>Connection string for a service's own least-privilege role.</summary>
    public string ConnectionStringFor(string role) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Username = role, Password = RolePassword, Pooling = true }.ConnectionString;

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
            command.Parameters.AddWithValue(parameter);
        var value = await command.ExecuteScalarAsync();
        return (T)Convert.ChangeType(value!, typeof(T));
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var server = NpgsqlDataSource.Create(TestServers.PostgresAdmin);
        await using var drop = server.CreateCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
        await drop.ExecuteNonQueryAsync();
    }
}
