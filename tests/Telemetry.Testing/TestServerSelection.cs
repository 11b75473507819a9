namespace Telemetry.Testing;

/// <summary>Where a test process gets its PostgreSQL and RabbitMQ from.</summary>
public enum TestServerSource
{
    /// <summary>The TELEMETRY_TEST_* variables name running servers (tests/run.sh starts them).</summary>
    Environment,

    /// <summary>None are set and a Docker engine answers: Testcontainers starts PostgreSQL 15 and RabbitMQ 3.10.</summary>
    Containers,
}

public static class TestServerSelection
{
    public static readonly string[] SeamVariables = ["TELEMETRY_TEST_POSTGRES", "TELEMETRY_TEST_RABBITMQ", "TELEMETRY_TEST_RABBITMQ_MANAGEMENT"];

    public const string NoServers =
        "No test servers: run the tests with tests/run.sh, which starts PostgreSQL and RabbitMQ and sets "
        + "TELEMETRY_TEST_POSTGRES, TELEMETRY_TEST_RABBITMQ and TELEMETRY_TEST_RABBITMQ_MANAGEMENT, "
        + "or run them where a Docker engine answers, and Testcontainers starts both.";

    /// <param name="environment">Reads an environment variable.</param>
    /// <param name="dockerAnswers">Whether a Docker engine can be reached; asked only when no variable is set.</param>
    public static TestServerSource Choose(Func<string, string?> environment, Func<bool> dockerAnswers)
    {
        var set = SeamVariables.Where(name => environment(name) is { Length: > 0 }).ToList();
        if (set.Count == SeamVariables.Length)
            return TestServerSource.Environment;
        if (set.Count > 0)
            throw new InvalidOperationException(
                $"Only {string.Join(", ", set)} of {string.Join(", ", SeamVariables)} are set: set all of them (tests/run.sh does) or none.");
        return dockerAnswers() ? TestServerSource.Containers : throw new InvalidOperationException(NoServers);
    }
}
