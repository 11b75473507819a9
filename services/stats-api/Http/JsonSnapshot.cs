using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;

namespace Telemetry.StatsApi.Http;

/// <summary>
/// A 200 with a cached JSON body of type <typeparamref name="T"/>, its ETag, Cache-Control and freshness headers; a 304
/// with the same headers and no body when the request's If-None-Match names the current ETag.
/// </summary>
public sealed class JsonSnapshot<T>(Snapshot snapshot) : IResult, IEndpointMetadataProvider, IStatusCodeHttpResult
{
    public int? StatusCode => StatusCodes.Status200OK;

    public Snapshot Snapshot { get; } = snapshot;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.Headers.ETag = Snapshot.ETag;
        response.Headers.CacheControl = Snapshot.CacheControl;
        Snapshot.ApplyFreshness(response);
        if (MatchesIfNoneMatch(httpContext.Request))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        var body = Snapshot.Body ?? throw new InvalidOperationException("A snapshot of nothing cannot be served as 200.");
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, httpContext.RequestAborted);
    }

    /// <summary>If-None-Match uses the weak comparison (RFC 9110 13.1.2); "*" matches any current representation.</summary>
    private bool MatchesIfNoneMatch(HttpRequest request)
    {
        if (request.Headers.IfNoneMatch.Count == 0)
            return false;
        var current = new EntityTagHeaderValue(Snapshot.ETag);
        return request.GetTypedHeaders().IfNoneMatch.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(current, useStrongComparison: false));
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(T), ["application/json"]));
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status304NotModified, typeof(void)));
    }
}
