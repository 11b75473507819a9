using System.Net.Sockets;
using System.Text.Json;
using Npgsql;
using Telemetry.ServiceDefaults.Failures;
using Xunit;

namespace Telemetry.UnitTests;

public sealed class FailureKindTests
{
    [Theory]
    [InlineData("57P01")] // admin shutdown
    [InlineData("57P02")] // crash shutdown
    [InlineData("57P03")] // cannot connect now (starting, failing over)
    [InlineData("53300")] // too many connections
    [InlineData("25006")] // read-only transaction: a standby, mid-failover
    [InlineData("40001")] // serialization failure
    [InlineData("40P01")] // deadlock
    [InlineData("08006")] // connection failure
    [InlineData("42501")] // a missing grant: the deployment is broken, not the message
    public void A_PostgreSQL_error_outside_classes_22_and_23_is_an_outage(string sqlState)
    {
        var error = Postgres(sqlState);

        Assert.True(FailureKind.IsOutage(error));
        Assert.False(FailureKind.IsDataRefusal(error));
    }

    [Theory]
    [InlineData("22001")] // string too long
    [InlineData("22021")] // a NUL character
    [InlineData("23505")] // unique violation
    [InlineData("23514")] // check violation: no partition for the row
    public void A_PostgreSQL_refusal_of_the_data_is_bad_input_not_an_outage(string sqlState)
    {
        var error = Postgres(sqlState);

        Assert.False(FailureKind.IsOutage(error));
        Assert.True(FailureKind.IsDataRefusal(error));
    }

    [Fact]
    public void A_refused_connection_is_an_outage_however_deeply_it_is_wrapped()
    {
        var refused = new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused));

        Assert.True(FailureKind.IsOutage(refused));
        Assert.True(FailureKind.IsOutage(new InvalidOperationException("wrapped", refused)));
        Assert.True(FailureKind.IsOutage(new TimeoutException()));
        Assert.True(FailureKind.IsOutage(new RabbitMQ.Client.Exceptions.BrokerUnreachableException(new IOException())));
    }

    [Fact]
    public void Bugs_and_unreadable_messages_are_not_outages()
    {
        Assert.False(FailureKind.IsOutage(new NullReferenceException()));
        Assert.False(FailureKind.IsOutage(new JsonException("bad")));
        Assert.False(FailureKind.IsOutage(new InvalidOperationException("no")));
    }

    private static PostgresException Postgres(string sqlState) => new("message", "ERROR", "ERROR", sqlState);
}
