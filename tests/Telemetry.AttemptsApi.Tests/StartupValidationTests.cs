using Microsoft.Extensions.Options;
using Xunit;

namespace Telemetry.AttemptsApi.Tests;

/// <summary>Bad configuration stops the service at startup with a message naming the variable to fix.</summary>
public sealed class StartupValidationTests
{
    private static Dictionary<string, string?> ValidSettings() => new()
    {
        // Never reached: startup fails before anything connects.
        ["ConnectionStrings:Telemetry"] = "Host=127.0.0.1;Port=1;Username=nobody;Password=nothing",
        ["ConnectionStrings:RabbitMq"] = "amqp://nobody:nothing@127.0.0.1:1/",
        ["Jwt:Issuer"] = AttemptsApiFixture.Issuer,
        ["Jwt:Audience"] = AttemptsApiFixture.Audience,
        ["Jwt:SigningKey"] = AttemptsApiFixture.SigningKey,
        ["AdminAuth:Key"] = AttemptsApiFixture.AdminKey,
    };

    [Theory]
    [InlineData("Jwt:SigningKey", "too-short-key", "Jwt__SigningKey must be at least 32 characters")]
    [InlineData("Jwt:SigningKey", "", "Set Jwt__SigningKey")]
    [InlineData("Jwt:Issuer", "", "Set Jwt__Issuer")]
    [InlineData("Jwt:Audience", "", "Set Jwt__Audience")]
    [InlineData("AdminAuth:Key", "short-admin-key", "AdminAuth__Key must be at least 24 characters")]
    [InlineData("Relay:BatchSize", "0", "BatchSize")]
    [InlineData("RequestLimits:SubmitBodyBytes", "10", "SubmitBodyBytes")]
    public void The_service_refuses_to_start_with_an_invalid_setting(string key, string value, string message)
    {
        var settings = ValidSettings();
        settings[key] = value;
        using var factory = AttemptsApiFixture.CreateFactory(settings);

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains(message, Describe(error));
    }

    [Theory]
    [InlineData("ConnectionStrings:Telemetry", "ConnectionStrings__Telemetry")]
    [InlineData("ConnectionStrings:RabbitMq", "ConnectionStrings__RabbitMq")]
    public void The_service_refuses_to_start_without_a_connection_string(string key, string variable)
    {
        var settings = ValidSettings();
        settings[key] = "";
        using var factory = AttemptsApiFixture.CreateFactory(settings);

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains(variable, Describe(error));
    }

    private static string Describe(Exception error) => error switch
    {
        OptionsValidationException validation => string.Join("; ", validation.Failures),
        AggregateException aggregate => string.Join("; ", aggregate.InnerExceptions.Select(Describe)),
        { InnerException: { } inner } => error.Message + "; " + Describe(inner),
        _ => error.Message,
    };
}
