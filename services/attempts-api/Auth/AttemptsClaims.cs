using System.Buffers;

namespace Telemetry.AttemptsApi.Auth;

public static class AttemptsClaims
{
    /// <summary>The validated wallet address, copied from the token's configured wallet claim.</summary>
    public const string Wallet = "wallet";

    public const int MaxWalletLength = 200;

    // What deploy/local/token.sh accepts: no whitespace, no control characters, nothing PostgreSQL cannot store.
    private static readonly SearchValues<char> WalletCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@-");

    /// <summary>1 to 200 ASCII letters, digits and <c>. _ : @ -</c> (an 0x… address fits).</summary>
    public static bool IsValidWallet(string? wallet) =>
        wallet is { Length: > 0 and <= MaxWalletLength } && !wallet.AsSpan().ContainsAnyExcept(WalletCharacters);
}
