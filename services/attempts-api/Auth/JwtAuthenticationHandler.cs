using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Telemetry.AttemptsApi.Auth;

public static class AttemptsClaims
{
    /// <summary>The validated wallet address, copied from the token's configured wallet claim.</summary>
    public const string Wallet = "wallet";

    public const int MaxWalletLength = 200;
}

/// <summary>Validation settings built once from <see cref="Jwt"/>: HS256 only, issuer, audience and lifetime required.</summary>
public sealed class JwtValidation(IOptions<Jwt> options)
{
    public JsonWebTokenHandler Handler { get; } = new() { MapInboundClaims = false };

    public string WalletClaim { get; } = options.Value.WalletClaim;

    public TokenValidationParameters Parameters { get; } = new()
    {
        ValidIssuer = options.Value.Issuer,
        ValidAudience = options.Value.Audience,
        IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(options.Value.SigningKey)),
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ClockSkew = options.Value.ClockSkew,
    };
}

/// <summary>
/// Bearer authentication for learners with Microsoft.IdentityModel.JsonWebTokens (the JwtBearer package does not
/// restore here). The principal carries only the wallet address, from the configured claim.
/// </summary>
public sealed partial class JwtAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    JwtValidation validation)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "Bearer";
    private const string Prefix = "Bearer ";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (header is null || !header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            return AuthenticateResult.NoResult();

        var result = await validation.Handler.ValidateTokenAsync(header[Prefix.Length..].Trim(), validation.Parameters);
        if (!result.IsValid)
        {
            LogRejected(Logger, result.Exception?.Message);
            return AuthenticateResult.Fail("The bearer token is invalid or expired.");
        }
        if (!result.Claims.TryGetValue(validation.WalletClaim, out var value)
            || value is not string { Length: > 0 and <= AttemptsClaims.MaxWalletLength } wallet
            || string.IsNullOrWhiteSpace(wallet))
            return AuthenticateResult.Fail($"The bearer token has no usable '{validation.WalletClaim}' claim.");

        var identity = new ClaimsIdentity([new Claim(AttemptsClaims.Wallet, wallet)], SchemeName, AttemptsClaims.Wallet, null);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure;
        Response.Headers.WWWAuthenticate = failure is null ? "Bearer" : "Bearer error=\"invalid_token\"";
        await AuthProblems.WriteUnauthorizedAsync(Context, failure?.Message ?? "A bearer token is required.");
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Bearer token rejected: {Reason}")]
    private static partial void LogRejected(ILogger logger, string? reason);
}

internal static class AuthProblems
{
    public static async Task WriteUnauthorizedAsync(HttpContext context, string detail)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = StatusCodes.Status401Unauthorized, Title = "Unauthorized", Detail = detail },
        });
    }
}
