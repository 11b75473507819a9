using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Telemetry.StatsApi.Http;

public static class Problems
{
    /// <summary>Writes an RFC 7807 problem (application/problem+json) outside an endpoint: auth, rate limiting, errors.</summary>
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }
}

/// <summary>
/// The database being unreachable is the one failure a dashboard should retry: 503 with Retry-After rather than 500.
/// Other errors fall through to the default 500 problem.
/// </summary>
public sealed class DatabaseUnavailableHandler(ILogger<DatabaseUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not (NpgsqlException { IsTransient: true } or TimeoutException))
            return false;
        logger.LogWarning(exception, "Database unavailable while serving {Path}", context.Request.Path);
        context.Response.Headers.RetryAfter = "5";
        await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Statistics are temporarily unavailable",
            "The statistics database cannot be reached; retry shortly.");
        return true;
    }
}
