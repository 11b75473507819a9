namespace Telemetry.Testing;

/// <summary>
/// The one seam through which tests get their servers. tests/run.sh starts disposable PostgreSQL and RabbitMQ
/// processes and exports the TELEMETRY_TEST_* variables; where none is set and a Docker engine answers, Testcontainers
/// starts the same servers instead (<see cref="TestServerSelection"/>).
/// </summary>
public static class TestServers
{
    private static readonly Lazy<(string PostgresAdmin, string RabbitMq, string RabbitMqManagement)> Servers = new(() =>
        TestServerSelection.Choose(Environment.GetEnvironmentVariable, ContainerServers.DockerAnswers) == TestServerSource.Environment
            ? (Require("TELEMETRY_TEST_POSTGRES"), Require("TELEMETRY_TEST_RABBITMQ"), Require("TELEMETRY_TEST_RABBITMQ_MANAGEMENT"))
            : ContainerServers.Start());

    public static string PostgresAdmin => Servers.Value.PostgresAdmin;
    public static string RabbitMq => Servers.Value.RabbitMq;
    public static string RabbitMqManagement => Servers.Value.RabbitMqManagement;

    /// <summary>A script taking "stop", "kill" or "start" for the test broker; outage tests use it through <see cref="BrokerOutage"/>.</summary>
    public static string RabbitMqControl => RequireForOutages("TELEMETRY_TEST_RABBITMQ_CONTROL");

    /// <summary>A hot standby of <see cref="PostgresAdmin"/>'s server (streaming replication): read-only, seconds behind at most.</summary>
    public static string PostgresStandbyAdmin => RequireForOutages("TELEMETRY_TEST_POSTGRES_STANDBY");

    /// <summary>A 3-node RabbitMQ cluster only the node-loss tests use: its amqp:// URIs, comma-separated.</summary>
    public static string RabbitMqCluster => RequireForOutages("TELEMETRY_TEST_RABBITMQ_CLUSTER");

    /// <summary>The cluster nodes' management URLs, comma-separated, in the same order.</summary>
    public static string RabbitMqClusterManagement => RequireForOutages("TELEMETRY_TEST_RABBITMQ_CLUSTER_MANAGEMENT");

    /// <summary>A script taking "stop", "kill" or "start" and a node name (c1, c2, c3) (<see cref="BrokerCluster"/>).</summary>
    public static string RabbitMqClusterControl => RequireForOutages("TELEMETRY_TEST_RABBITMQ_CLUSTER_CONTROL");

    /// <summary>A second PostgreSQL server that only database outage tests use (through <see cref="DatabaseOutage"/>).</summary>
    public static string OutagePostgresAdmin => RequireForOutages("TELEMETRY_TEST_OUTAGE_POSTGRES");

    /// <summary>A script taking "stop", "kill" or "start" for <see cref="OutagePostgresAdmin"/>'s server.</summary>
    public static string OutagePostgresControl => RequireForOutages("TELEMETRY_TEST_OUTAGE_POSTGRES_CONTROL");

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : throw new InvalidOperationException(TestServerSelection.NoServers);

    /// <summary>The outage tests stop and kill their servers through scripts only tests/with-servers.sh writes.</summary>
    private static string RequireForOutages(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: the outage tests stop and kill their servers, which only tests/run.sh (tests/with-servers.sh) provides.");
}
