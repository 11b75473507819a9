using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Telemetry.Database;
using Telemetry.ServiceDefaults;

// The one explicit step before services start: migrations (under EF's migration lock), service logins, broker topology.
// Usage: setup [migrate|topology|all]   (default: all)
var configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args.Skip(1).ToArray()).Build();
var step = args.FirstOrDefault() ?? "all";
if (step is not ("migrate" or "topology" or "all"))
{
    Console.Error.WriteLine("usage: setup [migrate|topology|all]");
    return 2;
}

// EF logs its first-run probe of the migrations history table as a failed command; it is expected, not an error.
using var loggerFactory = LoggerFactory.Create(b => b
    .AddSimpleConsole(o => o.SingleLine = true)
    .SetMinimumLevel(LogLevel.Warning)
    .AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.None));
using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
try
{
    if (step is "migrate" or "all")
    {
        var admin = configuration.RequireConnectionString("Admin");
        Console.WriteLine("setup: applying database migrations");
        await SchemaMigrator.MigrateAsync(admin, loggerFactory, timeout.Token);
        var passwords = RolePasswords.From(configuration);
        await SchemaMigrator.SetRolePasswordsAsync(admin, passwords, timeout.Token);
        Console.WriteLine($"setup: database ready; logins enabled for {string.Join(", ", passwords.Keys)}");
    }

    if (step is "topology" or "all")
    {
        var broker = RabbitMqAddress.Parse(configuration.RequireConnectionString(Messaging.ConnectionStringName));
        Console.WriteLine($"setup: deploying broker topology to {broker.Host}:{broker.Port} (virtual host {broker.VirtualHost})");
        await TopologyDeployer.DeployAsync(broker, timeout.Token);
        Console.WriteLine($"setup: queues {string.Join(", ", TopologyDeployer.ConsumerQueues)} bound to AnswerSubmitted");
    }
    return 0;
}
catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
{
    Console.Error.WriteLine($"setup: {ex.Message}");
    return 1;
}

internal static class RolePasswords
{
    private static readonly Dictionary<string, string> SettingByRole = new()
    {
        [DatabaseRoles.AttemptsApi] = "RolePasswords:AttemptsApi",
        [DatabaseRoles.EventIngestor] = "RolePasswords:EventIngestor",
        [DatabaseRoles.Aggregator] = "RolePasswords:Aggregator",
        [DatabaseRoles.StatsApi] = "RolePasswords:StatsApi",
    };

    /// <summary>Every service role needs a password from the environment (RolePasswords__AttemptsApi, …).</summary>
    public static Dictionary<string, string> From(IConfiguration configuration) =>
        SettingByRole.ToDictionary(
            pair => pair.Key,
            pair => configuration[pair.Value] is { Length: > 0 } password
                ? password
                : throw new InvalidOperationException($"Missing '{pair.Value}'. Set the environment variable {pair.Value.Replace(":", "__")}."));
}
