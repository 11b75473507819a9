using System.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Telemetry.Contracts;

namespace Telemetry.Testing.Bench;

/// <summary>
/// Plain RabbitMQ.Client on a benchmark's virtual host, past MassTransit: exact queue depths (a passive declare; the
/// management API's figures lag by seconds), purge and delete, and loading a backlog of serialized envelopes several
/// times faster than publishing through MassTransit (several channels, many confirms in flight).
/// </summary>
public sealed class RawBroker : IAsyncDisposable
{
    /// <summary>The exchange MassTransit publishes AnswerSubmitted to; the consumer queues are bound to it.</summary>
    public static readonly string AnswerSubmittedExchange = $"{typeof(AnswerSubmitted).Namespace}:{nameof(AnswerSubmitted)}";

    private static readonly BasicProperties Persistent = new() { ContentType = "application/vnd.masstransit+json", DeliveryMode = DeliveryModes.Persistent };

    private readonly IChannel _control;

    private RawBroker(IConnection connection, IChannel control)
    {
        Connection = connection;
        _control = control;
    }

    /// <summary>For a benchmark's own consumers.</summary>
    public IConnection Connection { get; }

    public static async Task<RawBroker> ConnectAsync(string amqpUri, string clientName)
    {
        var connection = await new ConnectionFactory { Uri = new Uri(amqpUri), ClientProvidedName = clientName }.CreateConnectionAsync();
        return new RawBroker(connection, await connection.CreateChannelAsync());
    }

    public async Task<uint> ReadyAsync(string queue) => (await _control.QueueDeclarePassiveAsync(queue)).MessageCount;

    /// <summary>Ready messages in a queue that may not exist (0 then): a failed passive declare closes its channel.</summary>
    public async Task<uint> ReadyIfExistsAsync(string queue)
    {
        await using var channel = await Connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
    }

    public async Task PurgeAsync(string queue) => await _control.QueuePurgeAsync(queue);

    public async Task DeleteQueueAsync(string queue) => await _control.QueueDeleteAsync(queue);

    /// <summary>A channel whose publishes complete when the broker confirms them, with at most <paramref name="inFlight"/> unconfirmed.</summary>
    public Task<IChannel> ConfirmingChannelAsync(int inFlight) =>
        Connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
            outstandingPublisherConfirmationsRateLimiter: new ThrottlingRateLimiter(inFlight)));

    /// <summary>
    /// Publishes a MassTransit envelope, persistent; mandatory, so an unroutable message fails instead of vanishing.
    /// Exchange "" is the default one, where the routing key is a queue name.
    /// </summary>
    public static ValueTask PublishAsync(IChannel channel, string exchange, string routingKey, byte[] body) =>
        channel.BasicPublishAsync(exchange, routingKey, mandatory: true, Persistent, body);

    /// <summary>
    /// Publishes every body once, confirmed, then fails unless <paramref name="queue"/> holds exactly that many ready
    /// messages; prints progress to stderr.
    /// </summary>
    public async Task LoadAsync(IReadOnlyList<byte[]> bodies, string exchange, string routingKey, string queue)
    {
        const int channels = 4, window = 500;
        var clock = Stopwatch.StartNew();
        long confirmed = 0, reported = 0;
        await Task.WhenAll(Enumerable.Range(0, channels).Select(async slice =>
        {
            await using var channel = await ConfirmingChannelAsync(2 * window);
            for (var from = slice * window; from < bodies.Count; from += channels * window)
            {
                var to = Math.Min(from + window, bodies.Count);
                var confirms = new Task[to - from];
                for (var i = from; i < to; i++)
                    confirms[i - from] = PublishAsync(channel, exchange, routingKey, bodies[i]).AsTask();
                await Task.WhenAll(confirms);
                var total = Interlocked.Add(ref confirmed, to - from);
                var step = total / 50_000;
                if (step > Interlocked.Read(ref reported) && Interlocked.Exchange(ref reported, step) < step)
                    Console.Error.WriteLine($"[bench]     {total:N0}/{bodies.Count:N0} confirmed ({total / clock.Elapsed.TotalSeconds:N0} msg/s)");
            }
        }));
        var ready = await ReadyAsync(queue);
        if (ready != bodies.Count)
            throw new InvalidOperationException($"{queue} holds {ready:N0} messages after {bodies.Count:N0} were confirmed");
        Console.Error.WriteLine($"[bench]     backlog of {ready:N0} in {queue} after {clock.Elapsed.TotalSeconds:N1}s ({ready / clock.Elapsed.TotalSeconds:N0} msg/s)");
    }

    public async ValueTask DisposeAsync()
    {
        await _control.DisposeAsync();
        await Connection.DisposeAsync();
    }
}
