using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Telemetry.StatsApi.Http;

namespace Telemetry.StatsApi.Auth;

/// <summary>
/// Dashboard services authenticate with a key in the X-Api-Key header. An unknown or missing key is a 401; a revoked
/// key authenticates (the API knows whose it was) but is refused by the policy, a 403. Both answers are problems.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder, ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "DashboardApiKey";
    public const string PolicyName = "ActiveDashboardKey";
    public const string Header = "X-Api-Key";
    public const string KeyIdClaim = "dashboard_key_id";
    public const string RevokedClaim = "dashboard_key_revoked";
    public const int MaxKeyLength = 256;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = Request.Headers[Header];
        if (presented.Count == 0)
            return AuthenticateResult.NoResult();
        if (presented.Count > 1 || presented[0] is not { Length: > 0 and <= MaxKeyLength } key)
            return AuthenticateResult.Fail($"Send exactly one {Header} header of at most {MaxKeyLength} characters.");

        if (await keys.FindAsync(key, Context.RequestAborted) is not { } known)
            return AuthenticateResult.Fail("Unknown dashboard API key.");
        List<Claim> claims = [new(KeyIdClaim, known.Id), new(ClaimTypes.Name, known.Name)];
        if (known.Revoked)
            claims.Add(new Claim(RevokedClaim, "true"));
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = $"ApiKey header=\"{Header}\"";
        return Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "A valid dashboard API key is required",
            $"Send the dashboard service's key in the {Header} header.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.WriteAsync(Context, StatusCodes.Status403Forbidden, "This dashboard API key has been revoked",
            "Ask an operator for a new key (setup dashboard-key add NAME).");
}

public static class ApiKeyAuthenticationExtensions
{
    public static IServiceCollection AddDashboardKeyAuthentication(this IServiceCollection services)
    {
        services.AddSingleton<ApiKeyStore>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        // The scheme is the default one, so the policy uses the user the authentication middleware already resolved.
        services.AddAuthorizationBuilder().AddPolicy(ApiKeyAuthenticationHandler.PolicyName, policy => policy
            .RequireAuthenticatedUser()
            .RequireAssertion(context => !context.User.HasClaim(c => c.Type == ApiKeyAuthenticationHandler.RevokedClaim)));
        return services;
    }
}
