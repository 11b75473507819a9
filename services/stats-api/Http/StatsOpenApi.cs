using System.Globalization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Telemetry.ServiceDefaults;
using Telemetry.StatsApi.Auth;
using StatsEndpoints = Telemetry.StatsApi.Stats.StatsApi;

namespace Telemetry.StatsApi.Http;

/// <summary>
/// The parts of /openapi/v1.json the endpoint metadata cannot say by itself: the API key scheme, the caching and
/// freshness headers every statistics response carries, If-None-Match, and the real types of parameters that are
/// bound as text so that a bad value gets a validation problem naming it.
/// </summary>
public static class StatsOpenApi
{
    private const string SchemeName = "DashboardApiKey";

    private static readonly Dictionary<string, (bool Required, Func<OpenApiSchema> Schema)> Parameters = new()
    {
        ["trackId"] = (true, () => new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" }),
        ["cursor"] = (false, () => new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" }),
        ["from"] = (true, () => new OpenApiSchema { Type = JsonSchemaType.String, Format = "date" }),
        ["to"] = (true, () => new OpenApiSchema { Type = JsonSchemaType.String, Format = "date" }),
        ["limit"] = (false, () => Integer(1, StatsEndpoints.MaxQuestionsPageSize, StatsEndpoints.DefaultQuestionsPageSize)),
        ["cycleNumber"] = (true, () => Integer(1, int.MaxValue, null)),
    };

    private static readonly (string Name, string Description)[] ResponseHeaders =
    [
        ("ETag", "Strong validator of the body; send it back in If-None-Match to get a 304 while the data is unchanged."),
        ("Cache-Control", "private, max-age=N: how long a client may reuse the response without asking."),
        (Snapshot.DataAsOfHeader, "When the data is as of: the newest aggregator flush it includes (ISO 8601, UTC, milliseconds). " +
            "Absent until the aggregator has flushed once."),
        ("Last-Modified", "The same instant as X-Data-As-Of, as an HTTP date (whole seconds)."),
    ];

    public static IServiceCollection AddStatsOpenApi(this IServiceCollection services)
    {
        return services.AddApiDocuments(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Telemetry stats API";
                document.Info.Description = "Read-only learning statistics for dashboard services. Send the dashboard " +
                    $"service's key in the {ApiKeyAuthenticationHandler.Header} header.";
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[SchemeName] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = ApiKeyAuthenticationHandler.Header,
                    Description = "A dashboard API key (setup dashboard-key add NAME).",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                if (context.Description.RelativePath?.StartsWith("api/stats/", StringComparison.Ordinal) == true)
                    DescribeStatsOperation(operation, context);
                return Task.CompletedTask;
            });
        });
    }

    private static void DescribeStatsOperation(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeName, context.Document)] = [] });

        operation.Parameters ??= [];
        foreach (var parameter in operation.Parameters.OfType<OpenApiParameter>())
        {
            if (parameter.Name is not { } name || !Parameters.TryGetValue(name, out var described))
                continue;
            parameter.Required = described.Required;
            parameter.Schema = described.Schema();
        }
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = "If-None-Match",
            In = ParameterLocation.Header,
            Description = "The ETag of a response held: the answer is 304 without a body while it is still current.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        });

        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (status is not ("200" or "304") || response is not OpenApiResponse described)
                continue;
            described.Headers ??= new Dictionary<string, IOpenApiHeader>();
            foreach (var (name, description) in ResponseHeaders)
                described.Headers[name] = Header(description);
            if (context.Description.RelativePath == "api/stats/questions")
                described.Headers["Link"] = Header("<URL of the next page>; rel=\"next\" while more questions follow.");
        }
    }

    private static OpenApiHeader Header(string description) =>
        new() { Description = description, Schema = new OpenApiSchema { Type = JsonSchemaType.String } };

    private static OpenApiSchema Integer(int minimum, int maximum, int? fallback) => new()
    {
        Type = JsonSchemaType.Integer,
        Format = "int32",
        Minimum = minimum.ToString(CultureInfo.InvariantCulture),
        Maximum = maximum.ToString(CultureInfo.InvariantCulture),
        Default = fallback,
    };
}
