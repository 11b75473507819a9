using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace Telemetry.ServiceDefaults;

/// <summary>What both APIs share about their documents: /openapi/v1.json always, the Scalar page only when switched on.</summary>
public static class ApiDocuments
{
    public static IServiceCollection AddApiDocuments(this IServiceCollection services, Action<OpenApiOptions> describe)
    {
        services.AddValidatedOptions<OpenApi>();
        return services.AddOpenApi(describe);
    }

    /// <summary>/openapi/v1.json for anyone (it is the public contract); the Scalar page at /scalar only when switched on.</summary>
    public static WebApplication MapApiDocuments(this WebApplication app)
    {
        app.MapOpenApi();
        if (app.Services.GetRequiredService<IOptions<OpenApi>>().Value.ScalarEnabled(app.Environment))
            app.MapScalarApiReference();
        return app;
    }
}

/// <summary>The API reference page (env OpenApi__Scalar=true|false); unset, it is served in Development only.</summary>
public sealed class OpenApi
{
    public bool? Scalar { get; set; }

    public bool ScalarEnabled(IHostEnvironment environment) => Scalar ?? environment.IsDevelopment();
}
