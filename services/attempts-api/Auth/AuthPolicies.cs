namespace Telemetry.AttemptsApi.Auth;

public static class AuthPolicies
{
    /// <summary>A learner's validated bearer token carrying a wallet address.</summary>
    public const string Learner = "learner";

    /// <summary>The X-Admin-Key credential; a learner's token does not open the admin API.</summary>
    public const string Admin = "admin";
}
