namespace Telemetry.Testing;

/// <summary>
/// The one seam through which tests get their servers: connection settings from the environment. tests/run.sh starts
/// disposable PostgreSQL and RabbitMQ processes and exports these; a container-based runner could export the same.
/// </summary>
public static class TestServers
{
    public static string PostgresAdmin => Require("TELEMETRY_TEST_POSTGRES");
    public static string RabbitMq => Require("TELEMETRY_TEST_RABBITMQ");
    public static string RabbitMqManagement => Require("TELEMETRY_TEST_RABBITMQ_MANAGEMENT");

    /// <summary>A script taking "stop", "kill" or "start" for the test broker; outage tests use it through <see cref="BrokerOutage"/>.</summary>
    public static string RabbitMqControl => Require("TELEMETRY_TEST_RABBITMQ_CONTROL");

    /// <summary>A second PostgreSQL server that only database outage tests use (through <see cref="DatabaseOutage"/>).</summary>
    public static string OutagePostgresAdmin => Require("TELEMETRY_TEST_OUTAGE_POSTGRES");

    /// <summary>A script taking "stop", "kill" or "start" for <see cref="OutagePostgresAdmin"/>'s server.</summary>
    public static string OutagePostgresControl => Require("TELEMETRY_TEST_OUTAGE_POSTGRES_CONTROL");

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests with tests/run.sh, which starts the servers.");
}
