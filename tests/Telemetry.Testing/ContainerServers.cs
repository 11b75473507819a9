using DotNet.Testcontainers.Builders;
using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;

namespace Telemetry.Testing;

/// <summary>
/// PostgreSQL 15 and RabbitMQ 3.10 (with its management plugin) in containers, started once per test process where a
/// Docker engine answers; Testcontainers' reaper removes them when the process ends.
/// </summary>
internal static class ContainerServers
{
    private const int ManagementPort = 15672;

    /// <summary>Building a container probes the engine: Testcontainers throws DockerUnavailableException without one.</summary>
    public static bool DockerAnswers()
    {
        try
        {
            _ = new PostgreSqlBuilder("postgres:15").Build();
            return true;
        }
        catch (DockerUnavailableException)
        {
            return false;
        }
    }

    public static (string PostgresAdmin, string RabbitMq, string RabbitMqManagement) Start()
    {
        var password = Guid.NewGuid().ToString("N");
        var postgres = new PostgreSqlBuilder("postgres:15").WithPassword(password).Build();
        var rabbit = new RabbitMqBuilder("rabbitmq:3.10-management")
            .WithUsername("telemetry").WithPassword(password)
            // The image's default wait ("Server startup complete") comes after its plugins, management among them, started.
            .WithPortBinding(ManagementPort, assignRandomHostPort: true)
            .Build();
        Task.WhenAll(postgres.StartAsync(), rabbit.StartAsync()).GetAwaiter().GetResult();
        var management = $"http://telemetry:{password}@{rabbit.Hostname}:{rabbit.GetMappedPublicPort(ManagementPort)}/";
        return (postgres.GetConnectionString(), rabbit.GetConnectionString(), management);
    }
}
