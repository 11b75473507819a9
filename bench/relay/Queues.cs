using RabbitMQ.Client;
using Telemetry.ServiceDefaults;

namespace Telemetry.Bench.Relay;

/// <summary>
/// The consumer queues bound to AnswerSubmitted (no consumer runs in the benchmark): counts what arrived, exactly (an
/// AMQP passive declare, not the management API's lagging statistics), and empties them between measurements.
/// </summary>
public sealed class Queues : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly IChannel _channel;

    private Queues(IConnection connection, IChannel channel)
    {
        _connection = connection;
        _channel = channel;
    }

    public static async Task<Queues> ConnectAsync(string amqpUri)
    {
        var connection = await new ConnectionFactory { Uri = new Uri(amqpUri), ClientProvidedName = "relay bench" }.CreateConnectionAsync();
        return new Queues(connection, await connection.CreateChannelAsync());
    }

    /// <summary>Fails unless every bound queue holds exactly <paramref name="expected"/> messages, then purges them.</summary>
    public async Task VerifyAndPurgeAsync(long expected, string what)
    {
        foreach (var queue in TopologyDeployer.ConsumerQueues)
        {
            var depth = (await _channel.QueueDeclarePassiveAsync(queue)).MessageCount;
            if (depth != expected)
                throw new InvalidOperationException($"{what}: queue '{queue}' holds {depth:N0} messages, expected {expected:N0}.");
            await _channel.QueuePurgeAsync(queue);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
