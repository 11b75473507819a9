using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Telemetry.StatsApi.Auth;

/// <summary>
/// Dashboard API keys, stored only as SHA-256 hex digests (DashboardKeys__Sha256__0, __1, …); several can be active
/// at once so a key can be rotated without downtime.
/// </summary>
public sealed class DashboardKeys : IValidatableObject
{
    public List<string> Sha256 { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Sha256.Count == 0)
            yield return new ValidationResult("Set at least one dashboard key digest: DashboardKeys__Sha256__0=<sha256 hex of the key>.");
        foreach (var digest in Sha256.Where(d => d.Length != 64 || !d.All(Uri.IsHexDigit)))
            yield return new ValidationResult($"DashboardKeys:Sha256 entry '{digest}' is not a 64-character hex SHA-256 digest.");
    }
}

public sealed class ApiKeyFilter(IOptions<DashboardKeys> keys) : IEndpointFilter
{
    public const string Header = "X-Api-Key";
    private readonly byte[][] _digests = keys.Value.Sha256.Select(Convert.FromHexString).ToArray();

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var presented = context.HttpContext.Request.Headers[Header].ToString();
        if (presented.Length is 0 or > 256 || !Matches(presented))
            return TypedResults.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "A valid dashboard API key is required",
                detail: $"Send the key in the {Header} header.");
        return await next(context);
    }

    private bool Matches(string presented)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var match = false;
        foreach (var known in _digests)
            match |= CryptographicOperations.FixedTimeEquals(digest, known);
        return match;
    }
}
