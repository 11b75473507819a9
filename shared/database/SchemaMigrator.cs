using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Telemetry.Database;

/// <summary>Applies the migrations (EF takes a migration lock, so concurrent runs are safe) and enables the service logins.</summary>
public static class SchemaMigrator
{
    public static async Task MigrateAsync(string adminConnectionString, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        // The context maps no entities; Migrations/SchemaDbContextModelSnapshot.cs holds that empty model, so EF's
        // pending-model-changes check stays on and a model change without its migration stops here.
        var options = SchemaDbContext.CreateOptions(adminConnectionString, builder =>
        {
            if (loggerFactory is not null)
                builder.UseLoggerFactory(loggerFactory);
        });

        await using var context = new SchemaDbContext(options);
        await context.Database.MigrateAsync(cancellationToken);
    }

    /// <summary>Lets each service role log in with the given password (roles are created NOLOGIN by the migrations).</summary>
    public static async Task SetRolePasswordsAsync(string adminConnectionString, IReadOnlyDictionary<string, string> passwords, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync(cancellationToken);
        foreach (var (role, password) in passwords)
        {
            if (!DatabaseRoles.All.Contains(role))
                throw new ArgumentException($"Unknown service role '{role}'.", nameof(passwords));
            if (password.Length < 12)
                throw new ArgumentException($"The password for role '{role}' must have at least 12 characters.", nameof(passwords));

            // DDL takes no parameters; format() with %I/%L quotes the name and the literal safely.
            await using var render = new NpgsqlCommand("SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', $1, $2)", connection);
            render.Parameters.AddWithValue(role);
            render.Parameters.AddWithValue(password);
            var statement = (string)(await render.ExecuteScalarAsync(cancellationToken))!;
            await using var alter = new NpgsqlCommand(statement, connection);
            await alter.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
