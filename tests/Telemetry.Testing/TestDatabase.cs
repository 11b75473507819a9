using Npgsql;
using Telemetry.Database;

namespace Telemetry.Testing;

/// <summary>A fresh, fully migrated database per fixture, dropped afterwards.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    // Roles are cluster-wide and the test assemblies run in parallel processes against one server: every process of a
    // run derives the same role password from the run's admin connection string, and migrations take a server-wide
    // advisory lock (concurrent ALTER ROLE fails with "tuple concurrently updated").
    private static readonly string RolePassword =
        "test-" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(TestServers.PostgresAdmin)))[..32];
    private const long MigrationLockKey = 0x7465_6C65_6D65_7472;

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
        // Advisory locks belong to one database: every process takes it in the server's "postgres" database.
        await using (var gate = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(TestServers.PostgresAdmin) { Database = "postgres", Pooling = false }.ConnectionString))
        {
            await gate.OpenAsync();
            await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLockKey})", gate))
                await lockCommand.ExecuteNonQueryAsync();
            await SchemaMigrator.MigrateAsync(admin);
            await SchemaMigrator.SetRolePasswordsAsync(admin, DatabaseRoles.All.ToDictionary(r => r, _ => RolePassword));
            // Closing the session releases the lock, also when the migration threw.
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
