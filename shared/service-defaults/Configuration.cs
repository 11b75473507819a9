using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Telemetry.ServiceDefaults;

public static class ConfigurationExtensions
{
    /// <summary>A connection string the service cannot run without; a clear startup error names the variable to set.</summary>
    public static string RequireConnectionString(this IConfiguration configuration, string name) =>
        configuration.GetConnectionString(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"Missing configuration 'ConnectionStrings:{name}'. Set the environment variable ConnectionStrings__{name}.");

    /// <summary>Options bound from the section named after the class, validated by data annotations at startup.</summary>
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services) where T : class =>
        services.AddOptions<T>().BindConfiguration(typeof(T).Name).ValidateDataAnnotations().ValidateOnStart();
}
