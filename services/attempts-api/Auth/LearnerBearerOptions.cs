using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Telemetry.AttemptsApi.Auth;

/// <summary>
/// The JwtBearer scheme for learners, from <see cref="Jwt"/>: HS256 only, issuer, audience and lifetime required,
/// no metadata discovery. The principal carries only the wallet address, and only when the wallet claim is valid.
/// </summary>
public sealed class LearnerBearerOptions(IOptions<Jwt> jwt) : IConfigureNamedOptions<JwtBearerOptions>
{
    public const string SchemeName = JwtBearerDefaults.AuthenticationScheme;

    public void Configure(string? name, JwtBearerOptions options)
    {
        if (name != SchemeName)
            return;
        var settings = jwt.Value;
        options.MapInboundClaims = false;
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = settings.Issuer,
            ValidAudience = settings.Audience,
            IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(settings.SigningKey)),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ClockSkew = settings.ClockSkew,
        };
        options.Events = new JwtBearerEvents
        {
            OnTokenValidated = context => KeepOnlyTheWallet(context, settings.WalletClaim),
            OnChallenge = WriteProblemAsync,
        };
    }

    public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);

    private static Task KeepOnlyTheWallet(TokenValidatedContext context, string walletClaim)
    {
        var claims = context.Principal?.FindAll(walletClaim).ToList() ?? [];
        // A JSON string claim; a number, object or array of wallets is not a wallet.
        if (claims is not [{ ValueType: ClaimValueTypes.String or ClaimValueTypes.DateTime, Value: var wallet }]
            || !AttemptsClaims.IsValidWallet(wallet))
        {
            context.Fail(new InvalidWalletClaimException(
                $"The bearer token has no usable '{walletClaim}' claim (1 to {AttemptsClaims.MaxWalletLength} letters, digits or . _ : @ -)."));
            return Task.CompletedTask;
        }
        var identity = new ClaimsIdentity([new Claim(AttemptsClaims.Wallet, wallet)], SchemeName, AttemptsClaims.Wallet, null);
        context.Principal = new ClaimsPrincipal(identity);
        return Task.CompletedTask;
    }

    private static async Task WriteProblemAsync(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        var failure = context.AuthenticateFailure;
        context.Response.Headers.WWWAuthenticate = failure is null ? "Bearer" : "Bearer error=\"invalid_token\"";
        await AuthProblems.WriteUnauthorizedAsync(context.HttpContext, failure switch
        {
            null => "A bearer token is required.",
            InvalidWalletClaimException => failure.Message,
            _ => "The bearer token is invalid or expired.",
        });
    }
}

public sealed class InvalidWalletClaimException(string message) : SecurityTokenValidationException(message);
