using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Telemetry.StatsApi.Auth;

/// <summary>A dashboard key as the API knows it: never the key itself, only who it is and whether it was revoked.</summary>
public sealed record DashboardKey(string Id, string Name, bool Revoked);

/// <summary>
/// The dashboard keys, held in memory as one snapshot of the dashboard_api_keys table so a request
/// costs no database round trip. The snapshot is reloaded once it is older than RefreshInterval (the request that
/// finds it stale waits for the reload, so a revoked key stops working within that interval; if the database cannot
/// be reached, requests fail rather than trust an old list). Concurrent requests share one reload.
/// </summary>
public sealed class ApiKeyStore(NpgsqlDataSource dataSource, IOptions<DashboardKeys> options, TimeProvider clock, ILogger<ApiKeyStore> logger)
{
    private static readonly TimeSpan LoadTimeout = TimeSpan.FromSeconds(10);

    private readonly DashboardKeys _options = options.Value;
    private readonly Lock _gate = new();
    private volatile Snapshot? _snapshot;
    private Task<Snapshot>? _loading;

    public async ValueTask<DashboardKey?> FindAsync(string presentedKey, CancellationToken cancellationToken)
    {
        var digest = Digest.Of(presentedKey);
        var snapshot = _snapshot;
        if (snapshot is null || clock.GetElapsedTime(snapshot.LoadedAt) >= _options.RefreshInterval)
            snapshot = await ReloadAsync(snapshot).WaitAsync(cancellationToken);
        if (snapshot.Keys.TryGetValue(digest, out var key))
            return key;
        if (clock.GetElapsedTime(snapshot.LoadedAt) < _options.UnknownKeyRecheckInterval)
            return null;
        snapshot = await ReloadAsync(snapshot).WaitAsync(cancellationToken);
        return snapshot.Keys.GetValueOrDefault(digest);
    }

    /// <summary>Starts a reload unless one is running or another request has already replaced the snapshot it saw.</summary>
    private Task<Snapshot> ReloadAsync(Snapshot? seen)
    {
        lock (_gate)
        {
            if (_snapshot is { } current && !ReferenceEquals(current, seen))
                return Task.FromResult(current);
            if (_loading is null || _loading.IsCompleted)
                _loading = Task.Run(LoadAsync);
            return _loading;
        }
    }

    private async Task<Snapshot> LoadAsync()
    {
        using var timeout = new CancellationTokenSource(LoadTimeout);
        var startedAt = clock.GetTimestamp();
        var keys = new Dictionary<Digest, DashboardKey>();
        await using (var command = dataSource.CreateCommand("SELECT key_id, name, sha256, revoked_at IS NOT NULL FROM dashboard_api_keys"))
        await using (var reader = await command.ExecuteReaderAsync(timeout.Token))
        {
            while (await reader.ReadAsync(timeout.Token))
                keys[Digest.FromBytes(reader.GetFieldValue<byte[]>(2))] = new DashboardKey(reader.GetInt64(0).ToString(), reader.GetString(1), reader.GetBoolean(3));
        }

        var snapshot = new Snapshot(keys.ToFrozenDictionary(), startedAt, keys.Values.Count(k => k.Revoked));
        if (_snapshot is not { } previous || (previous.Keys.Count, previous.Revoked) != (snapshot.Keys.Count, snapshot.Revoked))
            logger.LogInformation("Dashboard keys: {Active} active, {Revoked} revoked", snapshot.Keys.Count - snapshot.Revoked, snapshot.Revoked);
        _snapshot = snapshot;
        return snapshot;
    }

    /// <param name="LoadedAt">A TimeProvider timestamp taken before the query, so the snapshot's age is never understated.</param>
    private sealed record Snapshot(FrozenDictionary<Digest, DashboardKey> Keys, long LoadedAt, int Revoked);

    /// <summary>A SHA-256 digest as a value, so lookups neither allocate nor compare byte arrays by reference.</summary>
    private readonly record struct Digest(UInt128 High, UInt128 Low)
    {
        public static Digest Of(string key)
        {
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
            return FromBytes(hash);
        }

        public static Digest FromBytes(ReadOnlySpan<byte> hash) =>
            hash.Length == SHA256.HashSizeInBytes
                ? new Digest(BinaryPrimitives.ReadUInt128BigEndian(hash), BinaryPrimitives.ReadUInt128BigEndian(hash[16..]))
                : throw new ArgumentException($"A SHA-256 digest has {SHA256.HashSizeInBytes} bytes, not {hash.Length}.", nameof(hash));
    }
}
