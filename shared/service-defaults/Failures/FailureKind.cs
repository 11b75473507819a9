using System.Net.Sockets;
using Npgsql;
using RabbitMQ.Client.Exceptions;

namespace Telemetry.ServiceDefaults.Failures;

/// <summary>
/// Which kind a failure is, decided by exception type and SQLSTATE only (never by message text): the world is broken
/// (wait, retry, pause, answer 503; never dead-letter) or the input is bad (refuse it with its reason).
/// </summary>
public static class FailureKind
{
    /// <summary>
    /// True when a dependency is down, refusing, failing over, overloaded or lost a race: the same work can succeed
    /// later unchanged. Of PostgreSQL's own errors only classes 22 (data exception) and 23 (integrity violation) blame
    /// the data; every other SQLSTATE (connection, shutdown, read-only standby, too many connections, serialization,
    /// deadlock, but also a missing grant or table during a deployment) is about the server, so the work waits for it.
    /// </summary>
    public static bool IsOutage(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException postgres:
                    return !IsDataRefusal(postgres);
                case NpgsqlException { IsTransient: true }:
                case DependencyUnavailableException:
                case SocketException:
                case TimeoutException:
                case IOException: // RabbitMQ.Client's BrokerUnreachableException among them
                case OperationInterruptedException: // AlreadyClosedException among them
                case MassTransit.ConnectionException:
                    return true;
            }
        }
        return false;
    }

    /// <summary>PostgreSQL refused the data itself: a data exception (class 22) or an integrity violation (class 23).</summary>
    public static bool IsDataRefusal(Exception exception) =>
        exception is PostgresException { SqlState: ['2', '2' or '3', ..] };
}
