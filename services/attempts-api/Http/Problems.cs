using Microsoft.AspNetCore.Http.HttpResults;

namespace Telemetry.AttemptsApi.Http;

/// <summary>Every error answer is application/problem+json; those about a request field name it under <c>errors</c>.</summary>
public static class Problems
{
    public static ProblemHttpResult Validation(ValidationErrors errors) =>
        Fields(StatusCodes.Status400BadRequest, "One or more fields are invalid.", errors.ToDictionary());

    public static ProblemHttpResult Field(int status, string title, string field, string message) =>
        Fields(status, title, new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult Status(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);

    private static ProblemHttpResult Fields(int status, string title, Dictionary<string, string[]> errors) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors) { Status = status, Title = title });
}
