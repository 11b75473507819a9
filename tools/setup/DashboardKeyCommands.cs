using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace Telemetry.Setup;

/// <summary>
/// Operators' management of dashboard API keys (table dashboard_api_keys, admin connection). Only a key's SHA-256 is
/// stored; `add` prints the key once, on stdout alone (messages go to stderr), so a script can capture it.
/// The stats API notices a change within its DashboardKeys:RefreshInterval (5 s by default).
/// </summary>
internal static partial class DashboardKeyCommands
{
    public const string Usage = """
        usage: setup dashboard-key add NAME       create a random key, store its hash, print the key once
               setup dashboard-key revoke NAME    refuse the key from now on (403), keeping its record
               setup dashboard-key list           every key: name, status, dates, digest prefix
               setup dashboard-key ensure NAME    register the key in $DASHBOARD_API_KEY under NAME unless it is there
        """;

    public const string KeyVariable = "DASHBOARD_API_KEY";

    /// <summary>Exit code of `ensure` when NAME holds another key, the key is registered under another name, or it is revoked.</summary>
    public const int Conflict = 3;

    private const int MinKeyLength = 16;
    private const int MaxKeyLength = 256;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, string adminConnectionString, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(adminConnectionString);
        return args switch
        {
            ["add", var name] => await AddAsync(dataSource, ValidName(name), cancellationToken),
            ["revoke", var name] => await RevokeAsync(dataSource, ValidName(name), cancellationToken),
            ["list"] => await ListAsync(dataSource, cancellationToken),
            ["ensure", var name] => await EnsureAsync(dataSource, ValidName(name), PresentedKey(), cancellationToken),
            _ => UsageError(),
        };
    }

    private static async Task<int> AddAsync(NpgsqlDataSource dataSource, string name, CancellationToken cancellationToken)
    {
        var key = "tdk_" + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        if (!await InsertAsync(dataSource, name, key, cancellationToken))
        {
            Console.Error.WriteLine($"setup: a dashboard key named '{name}' already exists (revoked or not); choose another name.");
            return 1;
        }
        Console.WriteLine(key);
        Console.Error.WriteLine($"setup: dashboard key '{name}' added. It is shown only this once: store it now (the database keeps only its SHA-256).");
        return 0;
    }

    private static async Task<int> RevokeAsync(NpgsqlDataSource dataSource, string name, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH revoked AS (UPDATE dashboard_api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL RETURNING revoked_at)
            SELECT (SELECT revoked_at FROM revoked), (SELECT revoked_at FROM dashboard_api_keys WHERE name = $1), EXISTS (SELECT FROM dashboard_api_keys WHERE name = $1)
            """);
        command.Parameters.AddWithValue(name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        if (!reader.GetBoolean(2))
        {
            Console.Error.WriteLine($"setup: there is no dashboard key named '{name}' (see: setup dashboard-key list).");
            return 1;
        }
        Console.Error.WriteLine(reader.IsDBNull(0)
            ? $"setup: dashboard key '{name}' was already revoked at {reader.GetFieldValue<DateTimeOffset>(1):u}."
            : $"setup: dashboard key '{name}' revoked; the stats API refuses it (403) within its key refresh interval (5 s by default).");
        return 0;
    }

    private static async Task<int> ListAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT name, created_at, revoked_at, left(encode(sha256, 'hex'), 12) FROM dashboard_api_keys ORDER BY created_at, key_id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        const string row = "{0,-32} {1,-8} {2,-20} {3,-20} {4}";
        Console.WriteLine(row, "NAME", "STATUS", "CREATED (UTC)", "REVOKED (UTC)", "SHA-256 PREFIX");
        while (await reader.ReadAsync(cancellationToken))
        {
            var revoked = reader.IsDBNull(2) ? null : (DateTimeOffset?)reader.GetFieldValue<DateTimeOffset>(2);
            Console.WriteLine(row, reader.GetString(0), revoked is null ? "active" : "revoked",
                Timestamp(reader.GetFieldValue<DateTimeOffset>(1)), revoked is { } at ? Timestamp(at) : "-", reader.GetString(3));
        }
        return 0;
    }

    private static async Task<int> EnsureAsync(NpgsqlDataSource dataSource, string name, string key, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT name, sha256 = $2, revoked_at IS NOT NULL FROM dashboard_api_keys WHERE name = $1 OR sha256 = $2 ORDER BY name = $1 DESC");
        command.Parameters.AddWithValue(name);
        command.Parameters.AddWithValue(Digest(key));
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                var (existing, sameKey, revoked) = (reader.GetString(0), reader.GetBoolean(1), reader.GetBoolean(2));
                var problem = (existing == name, sameKey, revoked) switch
                {
                    (true, true, false) => null,
                    (true, true, true) => $"dashboard key '{name}' is revoked: add a new key under another name",
                    (true, false, _) => $"dashboard key '{name}' holds a different key: revoke it, or use another name",
                    _ => $"this key is already registered as '{existing}'",
                };
                if (problem is not null)
                {
                    Console.Error.WriteLine($"setup: {problem}.");
                    return Conflict;
                }
                Console.Error.WriteLine($"setup: dashboard key '{name}' already present.");
                return 0;
            }
        }

        if (!await InsertAsync(dataSource, name, key, cancellationToken))
            return await EnsureAsync(dataSource, name, key, cancellationToken); // another ensure won the race: judge what it stored
        Console.Error.WriteLine($"setup: dashboard key '{name}' added from ${KeyVariable}.");
        return 0;
    }

    /// <returns>False when the name or the key is taken.</returns>
    private static async Task<bool> InsertAsync(NpgsqlDataSource dataSource, string name, string key, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("INSERT INTO dashboard_api_keys (name, sha256) VALUES ($1, $2) ON CONFLICT DO NOTHING");
        command.Parameters.AddWithValue(name);
        command.Parameters.AddWithValue(Digest(key));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>What the stats API compares: SHA-256 of the key's UTF-8 bytes.</summary>
    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static string PresentedKey() =>
        Environment.GetEnvironmentVariable(KeyVariable) is { Length: >= MinKeyLength and <= MaxKeyLength } key && key.Trim() == key
            ? key
            : throw new ArgumentException(
                $"Set {KeyVariable} to the dashboard key ({MinKeyLength} to {MaxKeyLength} characters, no surrounding spaces).");

    private static string ValidName(string name) =>
        NamePattern().IsMatch(name)
            ? name
            : throw new ArgumentException($"'{name}' is not a valid key name: 1 to 100 of A-Z a-z 0-9 . _ - starting with a letter or digit.");

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss");

    private static int UsageError()
    {
        Console.Error.WriteLine(Usage);
        return 2;
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\z")]
    private static partial Regex NamePattern();
}
