using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Telemetry.AttemptsApi.Auth;
using Telemetry.AttemptsApi.Catalogue;
using Telemetry.AttemptsApi.Submissions;
using Telemetry.ServiceDefaults;

namespace Telemetry.AttemptsApi.Http;

/// <summary>
/// The parts of /openapi/v1.json the endpoint metadata cannot say by itself: the two credentials and which operations
/// need which, and what the request bodies require (they are bound as text so that a bad value is a 400 naming it).
/// </summary>
public static class AttemptsOpenApi
{
    public const string BearerScheme = "LearnerBearer";
    public const string AdminKeyScheme = "AdminKey";

    private static readonly Dictionary<string, string> SchemeOfPolicy = new()
    {
        [AuthPolicies.Learner] = BearerScheme,
        [AuthPolicies.Admin] = AdminKeyScheme,
    };

    private static readonly Dictionary<Type, string[]> RequiredProperties = new()
    {
        [typeof(SubmitRequest)] = ["attemptId", "trackId", "durationSec", "answers"],
        [typeof(SubmittedAnswer)] = ["questionId", "selectedAnswer"],
        [typeof(TrackRequest)] = ["title", "passThresholdPct", "questions"],
        [typeof(QuestionRequest)] = ["questionId", "correctAnswer"],
        [typeof(CycleRequest)] = ["startsAt", "endsAt"],
    };

    public static IServiceCollection AddAttemptsOpenApi(this IServiceCollection services)
    {
        return services.AddApiDocuments(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Telemetry attempts API";
                document.Info.Description = "Learners submit attempts with a bearer token; operators manage the catalogue " +
                    $"and the cycle calendar with the {AdminKeyAuthenticationHandler.HeaderName} header. Every error is " +
                    "application/problem+json; one about a request field names it under errors.";
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "A learner's JWT, HS256 only, with the configured issuer, audience and lifetime; the wallet " +
                        $"claim must be 1 to {AttemptsClaims.MaxWalletLength} ASCII letters, digits or . _ : @ -.",
                };
                document.Components.SecuritySchemes[AdminKeyScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = AdminKeyAuthenticationHandler.HeaderName,
                    Description = "The operators' admin key (AdminAuth__Key).",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                DescribeOperation(operation, context);
                return Task.CompletedTask;
            });
            options.AddSchemaTransformer((schema, context, _) =>
            {
                DescribeSchema(schema, context.JsonTypeInfo.Type);
                return Task.CompletedTask;
            });
        });
    }

    private static void DescribeOperation(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        var policies = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Select(a => a.Policy);
        foreach (var scheme in policies.OfType<string>().Where(SchemeOfPolicy.ContainsKey).Select(p => SchemeOfPolicy[p]).Distinct())
        {
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [] });
        }

        // Path parameters are bound as text so that a bad one is a 400 naming it; here is what they must hold.
        foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
            parameter.Schema = parameter.Name switch
            {
                "trackId" => new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" },
                "cycleNumber" => new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1" },
                _ => parameter.Schema,
            };

        foreach (var (status, response) in operation.Responses ?? [])
            if (status is "429" or "503" && response is OpenApiResponse described)
            {
                described.Headers ??= new Dictionary<string, IOpenApiHeader>();
                described.Headers["Retry-After"] = new OpenApiHeader
                {
                    Description = "Seconds to wait before sending the same request again.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Integer },
                };
            }
    }

    /// <summary>
    /// Numbers are documented as the numbers they are written as (the web defaults would add "or a numeric string",
    /// which the API also reads); a request body's required fields are required and not null.
    /// </summary>
    private static void DescribeSchema(OpenApiSchema schema, Type type)
    {
        if (schema.Type is { } kind && (kind & (JsonSchemaType.Integer | JsonSchemaType.Number)) != 0 && (kind & JsonSchemaType.String) != 0)
        {
            schema.Type = kind & ~JsonSchemaType.String;
            schema.Pattern = null;
        }
        if (!RequiredProperties.TryGetValue(type, out var required) || schema.Properties is null)
            return;
        schema.Required = new HashSet<string>(required);
        foreach (var (name, property) in schema.Properties)
        {
            if (property is not OpenApiSchema field)
                continue;
            if (required.Contains(name) && field.Type is { } fieldKind)
                field.Type = fieldKind & ~JsonSchemaType.Null;
            if (name.EndsWith("Id", StringComparison.Ordinal))
                field.Format = "uuid";
        }
    }
}
