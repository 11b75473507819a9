using Npgsql;
using Telemetry.Database;

namespace Telemetry.Testing;

/// <summary>A fresh, fully migrated database per fixture, dropped afterwards.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    // Roles are cluster-wide and the test assemblies run in parallel processes against one server: every process of a
    // run derives the same role password from the server's admin connection string, and migrations take a server-wide
    // advisory lock (concurrent ALTER ROLE fails with "tuple concurrently updated").
    private const long MigrationLockKey = 0x7465_6C65_6D65_7472;
    private readonly string _server;
    private readonly string _rolePassword;

    private TestDatabase(string server, string name, string adminConnectionString)
    {
        _server = server;
        _rolePassword = RolePasswordFor(server);
        Name = name;
        AdminConnectionString = adminConnectionString;
    }

    private static string RolePasswordFor(string server) =>
        "test-" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(server)))[..32];

    public string Name { get; }
    public string AdminConnectionString { get; }

    /// <param name="server">An admin connection string; the run's shared server when null.</param>
    public static async Task<TestDatabase> CreateAsync(string? server = null)
    {
        server ??= TestServers.PostgresAdmin;
        var name = "t_" + Guid.NewGuid().ToString("N");
        await using (var dataSource = NpgsqlDataSource.Create(server))
        await using (var create = dataSource.CreateCommand($"CREATE DATABASE {name}"))
            await create.ExecuteNonQueryAsync();

        var admin = new NpgsqlConnectionStringBuilder(server) { Database = name, Pooling = false }.ConnectionString;
        // Advisory locks belong to one database: every process takes it in the server's "postgres" database.
        await using (var gate = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ConnectionString))
        {
            await gate.OpenAsync();
            await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLockKey})", gate))
                await lockCommand.ExecuteNonQueryAsync();
            await SchemaMigrator.MigrateAsync(admin);
            await SchemaMigrator.SetRolePasswordsAsync(admin, DatabaseRoles.All.ToDictionary(r => r, _ => RolePasswordFor(server)));
            // Closing the session releases the lock, also when the migration threw.
        }
        return new TestDatabase(server, name, admin);
    }

    /// <summary>Connection string for a service's own least-privilege role.</summary>
    public string ConnectionStringFor(string role) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Username = role, Password = _rolePassword, Pooling = true }.ConnectionString;

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
        await using var server = NpgsqlDataSource.Create(_server);
        await using var drop = server.CreateCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
        await drop.ExecuteNonQueryAsync();
    }
}
