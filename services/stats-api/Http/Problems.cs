using Microsoft.AspNetCore.Mvc;

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
