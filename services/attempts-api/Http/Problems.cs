using Microsoft.AspNetCore.Http.HttpResults;

namespace Telemetry.AttemptsApi.Http;

/// <summary>Every error answer is application/problem+json; those about a request field name it under <c>errors</c>.</summary>
public static class Problems
{
    public static ProblemHttpResult Validation(ValidationErrors errors) =>
        Fields(StatusCodes.Status400BadRequest, "One or more fields are invalid.", errors);

    public static ProblemHttpResult Field(int status, string title, string field, string message)
    {
        var errors = new ValidationErrors();
        errors.Add(field, message);
        return Fields(status, title, errors);
    }

    public static ProblemHttpResult Fields(int status, string title, ValidationErrors errors) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors.ToDictionary()) { Status = status, Title = title });

    public static ProblemHttpResult Status(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
