using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Mvc.Testing;
using Telemetry.Database;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.StatsApi.Tests;

/// <summary>
/// One stats API per test class on its own fresh database, seeded with <see cref="Seed"/>, connecting as the read-only
/// telemetry_stats role. Keys: two active ones and one revoked one in dashboard_api_keys.
/// The response cache is off unless a derived fixture turns it on, so a test sees its own data changes at once.
/// </summary>
public class StatsApiFixture : IAsyncLifetime
{
    public const string KeyA = "dashboard-key-a-0123456789abcdef";
    public const string KeyB = "dashboard-key-b-0123456789abcdef";
    public const string RevokedKey = "dashboard-key-revoked-0123456789";

    public TestDatabase Database { get; private set; } = null!;
    public ServiceHost<Program> Host { get; private set; } = null!;

    /// <summary>Settings on top of the defaults below.</summary>
    protected virtual IReadOnlyDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>();

    /// <summary>Data on top of the seed.</summary>
    protected virtual Task SeedMoreAsync() => Task.CompletedTask;

    /// <summary>For a fixture that must serve over a real socket (Kestrel) instead of the in-memory test server.</summary>
    protected virtual void Configure(WebApplicationFactory<Program> factory)
    {
    }

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync();
        await Database.ExecuteAsync(Seed.Sql);
        await AddKeyAsync("dashboard-a", KeyA);
        await AddKeyAsync("dashboard-b", KeyB);
        await AddKeyAsync("dashboard-old", RevokedKey);
        await Database.ExecuteAsync("UPDATE dashboard_api_keys SET revoked_at = now() WHERE name = 'dashboard-old'");
        await SeedMoreAsync();

        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Telemetry"] = Database.ConnectionStringFor(DatabaseRoles.StatsApi),
            ["DashboardKeys:RefreshInterval"] = "00:00:01",
            ["DashboardKeys:UnknownKeyRecheckInterval"] = "00:00:00",
            ["StatsApiOptions:ResponseCacheDuration"] = "00:00:00",
            ["StatsApiOptions:PermitsPerSecond"] = "10000",
            ["StatsApiOptions:Burst"] = "10000",
        };
        foreach (var (key, value) in ExtraSettings)
            settings[key] = value;
        Host = new ServiceHost<Program>(settings);
        Configure(Host);
        Host.CreateClient().Dispose();
    }

    public HttpClient Client(string? key = KeyA)
    {
        var client = Host.CreateClient();
        if (key is not null)
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    public Task AddKeyAsync(string name, string key) =>
        Database.ScalarAsync<long>("INSERT INTO dashboard_api_keys (name, sha256) VALUES ($1, $2) RETURNING key_id", name, Digest(key));

    /// <summary>What X-Data-As-Of should say now: the newest flush in rollup_state.</summary>
    public Task<string> AsOfAsync() =>
        Database.ScalarAsync<string>("""SELECT to_char(max(last_flush_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') FROM rollup_state""");

    public static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Database.DisposeAsync();
    }
}
