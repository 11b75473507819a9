using MassTransit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Telemetry.AttemptsApi.Auth;
using Telemetry.AttemptsApi.Data;
using Telemetry.AttemptsApi.Http;
using Telemetry.AttemptsApi.Outbox;
using Telemetry.AttemptsApi.Submissions;
using Telemetry.ServiceDefaults;

namespace Telemetry.AttemptsApi;

public static class Extensions
{
    public const string ServiceName = "attempts-api";

    /// <summary>
    /// Everything the attempts API needs. Configuration comes from the environment only (no appsettings files):
    /// ConnectionStrings__Telemetry, ConnectionStrings__RabbitMq, Jwt__*, AdminAuth__Key, and the optional Relay__*,
    /// OutboxRetention__*, Levels__*, RateLimits__*, RequestLimits__*, OpenApi__Scalar settings, all validated at startup.
    /// </summary>
    public static WebApplicationBuilder AddAttemptsApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<Jwt>();
        services.AddValidatedOptions<AdminAuth>();
        services.AddValidatedOptions<Relay>();
        services.AddValidatedOptions<OutboxRetention>();
        services.AddValidatedOptions<Levels>();
        services.AddValidatedOptions<RateLimits>();
        services.AddValidatedOptions<RequestLimits>();
        services.TryAddSingleton(TimeProvider.System);

        builder.AddTelemetryDatabase(ServiceName);
        // The API only publishes: no consumers, so no queue of its own. Submits go to the outbox, so the API stays
        // ready while RabbitMQ is away; /health/ready reports the broker as Degraded (200) meanwhile.
        builder.AddTelemetryBus(register: _ => { }, readiness: BrokerReadiness.Buffered);

        services.ConfigureOptions<LearnerBearerOptions>();
        services.AddAuthentication(LearnerBearerOptions.SchemeName)
            .AddJwtBearer(LearnerBearerOptions.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, AdminKeyAuthenticationHandler>(AdminKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AuthPolicies.Learner, policy => policy
                .AddAuthenticationSchemes(LearnerBearerOptions.SchemeName)
                .RequireClaim(AttemptsClaims.Wallet))
            .AddPolicy(AuthPolicies.Admin, policy => policy
                .AddAuthenticationSchemes(AdminKeyAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser());
        services.AddRateLimiter(options => options.AddPolicy<string, WalletRateLimitPolicy>(WalletRateLimitPolicy.Name));

        // The endpoints enforce their own smaller limits (413); this is the server-wide backstop.
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<RequestLimits>>((kestrel, limits) =>
            kestrel.Limits.MaxRequestBodySize = Math.Max(limits.Value.SubmitBodyBytes, limits.Value.AdminBodyBytes));

        services.AddAttemptsOpenApi();

        services.AddSingleton<AttemptsMetrics>();
        services.AddSingleton<SubmissionStore>();
        services.AddSingleton<CatalogueStore>();
        services.AddSingleton<OutboxStore>();
        services.AddSingleton<OutboxSignal>();
        services.AddHostedService<OutboxRelay>();
        services.AddHostedService<OutboxBacklogSampler>();
        services.AddSingleton<OutboxCleanup>();
        services.AddHostedService(provider => provider.GetRequiredService<OutboxCleanup>());
        return builder;
    }
}
