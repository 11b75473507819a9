using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Telemetry.Testing;

/// <summary>Learner bearer tokens as the platform's auth service issues them (HS256, wallet claim).</summary>
public static class TestTokens
{
    public const string Issuer = "https://auth.telemetry.test";
    public const string Audience = "attempts-api";
    public const string SigningKey = "test-signing-key-with-at-least-32-characters";

    public static string For(string? wallet, string issuer = Issuer, string audience = Audience, string signingKey = SigningKey,
        DateTime? expires = null, string walletClaim = "wallet")
    {
        var claims = new Dictionary<string, object>();
        if (wallet is not null)
            claims[walletClaim] = wallet;
        var expiry = expires ?? DateTime.UtcNow.AddHours(1);
        var issued = expiry.AddHours(-1);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Claims = claims,
            IssuedAt = issued,
            NotBefore = issued,
            Expires = expiry,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)), SecurityAlgorithms.HmacSha256),
        });
    }
}
