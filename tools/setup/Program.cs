using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;
using Telemetry.Database;
using Telemetry.ServiceDefaults;
using Telemetry.Setup;
using Telemetry.Setup.DeadLetters;

// The one explicit step before services start: migrations (under EF's migration lock), service logins, broker topology.
// Also the operators' dashboard key management. Settings come from the environment (ConnectionStrings__Admin, …).
//   setup [migrate|topology|all] [--Setting=value …]    (default: all)
//   setup dashboard-key add|revoke|list|ensure …
//   setup dead-letters list|replay|purge …              (ConnectionStrings__RabbitMq)
var step = args.FirstOrDefault() ?? "all";
var configuration = new ConfigurationBuilder()
    .AddEnvironmentVariables()
    .AddCommandLine(step is "dashboard-key" or "dead-letters" ? [] : args.Skip(1).ToArray())
    .Build();
if (step is not ("migrate" or "topology" or "all" or "dashboard-key" or "dead-letters"))
{
    Console.Error.WriteLine("usage: setup [migrate|topology|all]");
    Console.Error.WriteLine(DashboardKeyCommands.Usage);
    Console.Error.WriteLine(DeadLetterCommands.Usage);
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
    if (step is "dashboard-key")
        return await DashboardKeyCommands.RunAsync(args[1..], configuration.RequireConnectionString("Admin"), timeout.Token);
    if (step is "dead-letters")
        return await DeadLetterCommands.RunAsync(args[1..], configuration.RequireConnectionString(Messaging.ConnectionStringName), timeout.Token);

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
catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or TimeoutException)
{
    Console.Error.WriteLine($"setup: {ex.Message}");
    return 1;
}
catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
{
    Console.Error.WriteLine($"setup: {ex.MessageText}: apply the migrations first (setup migrate).");
    return 1;
}
catch (NpgsqlException ex)
{
    Console.Error.WriteLine($"setup: database error: {ex.Message}");
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
