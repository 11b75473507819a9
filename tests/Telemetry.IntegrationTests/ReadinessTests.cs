using System.Net;
using System.Net.Http.Json;
using Telemetry.Database;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.IntegrationTests;

/// <summary>
/// Readiness while RabbitMQ cannot be reached, with the services pointed at a closed port (the shared test broker stays
/// up, so this runs in parallel with everything else). BrokerStopTests checks the same against a real outage.
/// </summary>
public sealed class ReadinessTests(ReadinessTests.UnreachableBrokerFixture services) : IClassFixture<ReadinessTests.UnreachableBrokerFixture>
{
    [Fact]
    public async Task The_event_ingestor_and_the_aggregator_are_not_ready_while_RabbitMQ_is_unreachable()
    {
        foreach (var client in new[] { services.Ingestor.CreateClient(), services.Aggregator.CreateClient() })
        {
            var (status, report) = await Readiness.ReadyAsync(client);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Readiness.AssertBrokerUnreachable(report, "Unhealthy");
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        }
    }

    [Fact]
    public async Task The_attempts_api_stays_ready_while_RabbitMQ_is_unreachable_and_reports_the_broker_as_degraded()
    {
        var (status, report) = await Readiness.ReadyAsync(services.Attempts.CreateClient());

        Assert.Equal(HttpStatusCode.OK, status);
        Readiness.AssertBrokerUnreachable(report, "Degraded");
    }

    public sealed class UnreachableBrokerFixture : IAsyncLifetime
    {
        // Nothing listens on port 1: connections are refused at once.
        private const string UnreachableBroker = "amqp://telemetry:unused@127.0.0.1:1/";

        public TestDatabase Database { get; private set; } = null!;
        public ServiceHost<AttemptsApi.Program> Attempts { get; private set; } = null!;
        public ServiceHost<EventIngestor.Program> Ingestor { get; private set; } = null!;
        public ServiceHost<Aggregator.Program> Aggregator { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Database = await TestDatabase.CreateAsync();
            Attempts = new ServiceHost<AttemptsApi.Program>(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Telemetry"] = Database.ConnectionStringFor(DatabaseRoles.AttemptsApi),
                ["ConnectionStrings:RabbitMq"] = UnreachableBroker,
                ["Jwt:Issuer"] = TestTokens.Issuer,
                ["Jwt:Audience"] = TestTokens.Audience,
                ["Jwt:SigningKey"] = TestTokens.SigningKey,
                ["AdminAuth:Key"] = "test-admin-key-0123456789abcdef",
            });
            Ingestor = new ServiceHost<EventIngestor.Program>(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Telemetry"] = Database.ConnectionStringFor(DatabaseRoles.EventIngestor),
                ["ConnectionStrings:RabbitMq"] = UnreachableBroker,
            });
            Aggregator = new ServiceHost<Aggregator.Program>(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Telemetry"] = Database.ConnectionStringFor(DatabaseRoles.Aggregator),
                ["ConnectionStrings:RabbitMq"] = UnreachableBroker,
            });
        }

        public async Task DisposeAsync()
        {
            await Attempts.DisposeAsync();
            await Ingestor.DisposeAsync();
            await Aggregator.DisposeAsync();
            await Database.DisposeAsync();
        }
    }
}

/// <summary>The JSON of /health/live and /health/ready, read and checked.</summary>
public static class Readiness
{
    public static async Task<(HttpStatusCode Status, Report Body)> ReadyAsync(HttpClient client)
    {
        var response = await client.GetAsync("/health/ready");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, (await response.Content.ReadFromJsonAsync<Report>())!);
    }

    /// <summary>The database is fine, the broker is reported unreachable, and the overall status is the broker's.</summary>
    public static void AssertBrokerUnreachable(Report report, string status)
    {
        Assert.Equal(status, report.Status);
        Assert.Equal("Healthy", Assert.Single(report.Checks, c => c.Name == "postgres").Status);
        var broker = Assert.Single(report.Checks, c => c.Name == "rabbitmq");
        Assert.Equal(status, broker.Status);
        Assert.Contains("unreachable", broker.Description, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The body of /health/live and /health/ready.</summary>
    public sealed record Report(string Status, List<Check> Checks);

    public sealed record Check(string Name, string Status, string? Description);
}
