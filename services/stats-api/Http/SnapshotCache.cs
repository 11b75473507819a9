using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Telemetry.StatsApi.Http;

/// <summary>A query's answer with the time of the newest aggregator flush it includes (null: none yet).</summary>
/// <param name="Value">The response body; null when the thing asked for does not exist.</param>
/// <param name="NextCursor">For a page: the cursor of the next page, or null on the last one.</param>
public sealed record Fresh<T>(T? Value, DateTimeOffset? AsOf, string? NextCursor = null) where T : class;

/// <summary>A query's answer as served: the JSON body, its validator and its freshness, with header values made once.</summary>
public sealed class Snapshot
{
    public const string DataAsOfHeader = "X-Data-As-Of";

    private readonly string? _dataAsOf;
    private readonly string? _lastModified;

    public Snapshot(DateTimeOffset? asOf)
    {
        AsOf = asOf;
        _dataAsOf = asOf?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        _lastModified = asOf?.ToString("R", CultureInfo.InvariantCulture);
    }

    public required byte[]? Body { get; init; }
    public required string ETag { get; init; }
    public required string CacheControl { get; init; }
    public string? NextCursor { get; init; }
    public DateTimeOffset? AsOf { get; }

    /// <summary>X-Data-As-Of (ISO 8601, milliseconds) and Last-Modified; neither while the aggregator has never flushed.</summary>
    public void ApplyFreshness(HttpResponse response)
    {
        if (_dataAsOf is null)
            return;
        response.Headers[DataAsOfHeader] = _dataAsOf;
        response.Headers.LastModified = _lastModified;
    }
}

/// <summary>
/// Serves each distinct query from memory for ResponseCacheDuration: the first request runs it (concurrent requests for
/// the same answer wait for that one query), the others get its serialized body. A failed query is not kept.
/// </summary>
public sealed class SnapshotCache : IDisposable
{
    private readonly MemoryCache _cache;
    private readonly TimeSpan _duration;
    private readonly string _cacheControl;
    private readonly JsonSerializerOptions _json;
    private readonly Lock _gate = new();

    public SnapshotCache(IOptions<StatsApiOptions> options, IOptions<JsonOptions> json)
    {
        _duration = options.Value.ResponseCacheDuration;
        _cacheControl = $"private, max-age={options.Value.ClientMaxAgeSeconds}";
        _json = json.Value.SerializerOptions;
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.ResponseCacheEntries });
    }

    public Task<Snapshot> GetAsync<T>(string key, Func<CancellationToken, Task<Fresh<T>>> query, CancellationToken cancellationToken) where T : class
    {
        if (_duration <= TimeSpan.Zero)
            return LoadAsync(query, cancellationToken);
        if (_cache.TryGetValue(key, out Task<Snapshot>? cached))
            return cached!.WaitAsync(cancellationToken);

        Task<Snapshot> loading;
        lock (_gate)
        {
            if (_cache.TryGetValue(key, out cached))
                return cached!.WaitAsync(cancellationToken);
            // Shared by every request waiting for it, so no single request's cancellation may cancel it.
            loading = Task.Run(() => LoadAsync(query, CancellationToken.None), CancellationToken.None);
            _cache.Set(key, loading, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = _duration, Size = 1 });
        }
        loading.ContinueWith(_ => _cache.Remove(key), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return loading.WaitAsync(cancellationToken);
    }

    private async Task<Snapshot> LoadAsync<T>(Func<CancellationToken, Task<Fresh<T>>> query, CancellationToken cancellationToken) where T : class
    {
        var fresh = await query(cancellationToken);
        var body = fresh.Value is null ? null : JsonSerializer.SerializeToUtf8Bytes(fresh.Value, _json);
        return new Snapshot(fresh.AsOf)
        {
            Body = body,
            ETag = EntityTag(body, fresh.NextCursor),
            CacheControl = _cacheControl,
            NextCursor = fresh.NextCursor,
        };
    }

    /// <summary>A strong validator over exactly what the client gets: the body and, for a page, where the next one starts.</summary>
    private static string EntityTag(byte[]? body, string? nextCursor)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(body ?? []);
        hash.AppendData(Encoding.UTF8.GetBytes("\n" + nextCursor));
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        hash.GetHashAndReset(digest);
        return $"\"{Base64Url.EncodeToString(digest[..16])}\"";
    }

    public void Dispose() => _cache.Dispose();
}
