using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace Telemetry.ServiceDefaults.Failures;

/// <summary>
/// A request that failed because a dependency is down is not the client's fault and not a bug: 503 problem+json with
/// Retry-After, so clients and load balancers retry. Any other exception falls through to the default 500 problem.
/// </summary>
public sealed partial class OutageExceptionHandler(IProblemDetailsService problems, ILogger<OutageExceptionHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (!FailureKind.IsOutage(exception))
            return false;
        // One line per refused request, without the stack: the outage itself is what the readiness probe and the workers report.
        LogUnavailable(context.Request.Method, context.Request.Path, exception.GetBaseException().GetType().Name, exception.GetBaseException().Message);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Temporarily unavailable",
                Detail = "A service this request needs (its database or message broker) cannot be reached. Retry the same request shortly.",
            },
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Answered 503 to {Method} {Path}: a dependency is unavailable ({Failure}: {Reason})")]
    private partial void LogUnavailable(string method, string path, string failure, string reason);
}
