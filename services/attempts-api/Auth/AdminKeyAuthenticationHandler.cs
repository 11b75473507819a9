using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Telemetry.AttemptsApi.Auth;

/// <summary>The admin API's own credential: the X-Admin-Key header, compared in constant time.</summary>
public sealed class AdminKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IOptions<AdminAuth> adminAuth)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "AdminKey";
    public const string HeaderName = "X-Admin-Key";

    // Comparing digests keeps the comparison constant-time whatever the presented key's length.
    private readonly byte[] _expected = SHA256.HashData(Encoding.UTF8.GetBytes(adminAuth.Value.Key));

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var presented) || presented.Count != 1 || string.IsNullOrEmpty(presented[0]))
            return Task.FromResult(AuthenticateResult.NoResult());

        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presented[0]!));
        if (!CryptographicOperations.FixedTimeEquals(digest, _expected))
            return Task.FromResult(AuthenticateResult.Fail($"The {HeaderName} header is wrong."));

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, "admin")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure;
        await AuthProblems.WriteUnauthorizedAsync(Context, failure?.Message ?? $"The {HeaderName} header is required.");
    }
}
