using System.ComponentModel.DataAnnotations;

namespace Telemetry.AttemptsApi.Auth;

/// <summary>Learners' bearer tokens (HS256), from the environment: Jwt__Issuer, Jwt__Audience, Jwt__SigningKey, Jwt__WalletClaim.</summary>
public sealed class Jwt
{
    [Required(ErrorMessage = "Set Jwt__Issuer to the issuer (iss) of the learners' tokens.")]
    public string Issuer { get; set; } = "";

    [Required(ErrorMessage = "Set Jwt__Audience to the audience (aud) of the learners' tokens.")]
    public string Audience { get; set; } = "";

    [Required(ErrorMessage = "Set Jwt__SigningKey to the HS256 shared secret (at least 32 characters).")]
    [MinLength(32, ErrorMessage = "Jwt__SigningKey must be at least 32 characters (HS256 needs a 256-bit key).")]
    public string SigningKey { get; set; } = "";

    /// <summary>The claim carrying the learner's wallet address.</summary>
    [Required(ErrorMessage = "Jwt__WalletClaim must name a claim.")]
    public string WalletClaim { get; set; } = "wallet";

    [Range(typeof(TimeSpan), "00:00:00", "00:05:00", ErrorMessage = "Jwt__ClockSkew must be between 0 and 5 minutes.")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>The operators' credential for the admin API, sent in the X-Admin-Key header (env AdminAuth__Key).</summary>
public sealed class AdminAuth
{
    [Required(ErrorMessage = "Set AdminAuth__Key to the admin API key (at least 24 characters).")]
    [MinLength(24, ErrorMessage = "AdminAuth__Key must be at least 24 characters.")]
    public string Key { get; set; } = "";
}
