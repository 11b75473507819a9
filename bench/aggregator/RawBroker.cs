using System.Diagnostics;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Telemetry.Contracts;

namespace Telemetry.Bench.Aggregator;

/// <summary>
/// Plain RabbitMQ.Client on the bench's virtual host: publishes serialized envelopes to the AnswerSubmitted exchange
/// (the relay's path: exchange → aggregator queue) with publisher confirms, and reads queue depths exactly
/// (a passive declare; the management API's figures lag by seconds).
/// </summary>
public sealed class RawBroker : IAsyncDisposable
{
    public static readonly string Exchange = $"{typeof(AnswerSubmitted).Namespace}:{nameof(AnswerSubmitted)}";
    private static readonly BasicProperties Persistent = new() { ContentType = "application/vnd.masstransit+json", DeliveryMode = DeliveryModes.Persistent };

    private readonly IConnection _connection;
    private readonly IChannel _control;

    private RawBroker(IConnection connection, IChannel control)
    {
        _connection = connection;
        _control = control;
    }

    public static async Task<RawBroker> ConnectAsync(string amqpUri)
    {
        var connection = await new ConnectionFactory { Uri = new Uri(amqpUri), ClientProvidedName = "aggregator bench" }.CreateConnectionAsync();
        var control = await connection.CreateChannelAsync();
        await control.ExchangeDeclarePassiveAsync(Exchange);
        return new RawBroker(connection, control);
    }

    public async Task<uint> ReadyAsync(string queue) => (await _control.QueueDeclarePassiveAsync(queue)).MessageCount;

    public async Task PurgeAsync(string queue) => await _control.QueuePurgeAsync(queue);

    public async Task DeleteQueueAsync(string queue) => await _control.QueueDeleteAsync(queue);

    /// <summary>A channel whose publishes complete when the broker confirms them, with at most <paramref name="inFlight"/> unconfirmed.</summary>
    public Task<IChannel> ConfirmingChannelAsync(int inFlight) =>
        _connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
            outstandingPublisherConfirmationsRateLimiter: new ThrottlingRateLimiter(inFlight)));

    /// <summary>Publishes to the AnswerSubmitted exchange; mandatory, so an unroutable message fails instead of vanishing.</summary>
    public static ValueTask PublishAsync(IChannel channel, byte[] body) =>
        channel.BasicPublishAsync(Exchange, "", mandatory: true, Persistent, body);

    /// <summary>Publishes every body once, over several channels with many confirms in flight; prints progress.</summary>
    public async Task LoadAsync(IReadOnlyList<byte[]> bodies, string queue)
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
                    confirms[i - from] = PublishAsync(channel, bodies[i]).AsTask();
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

    /// <summary>
    /// The leanest consumer of the same messages: each body deserialized into AnswerSubmitted, one ack (multiple) per
    /// <paramref name="batch"/> messages (and at the <paramref name="expected"/>th), prefetch <paramref name="batch"/>. Dispose to stop.
    /// </summary>
    public async Task<IAsyncDisposable> ConsumeAsync(string queue, int batch, int expected, Action<int> consumed)
    {
        var channel = await _connection.CreateChannelAsync();
        await channel.BasicQosAsync(0, (ushort)Math.Min(batch, ushort.MaxValue), global: false);
        var consumer = new AsyncEventingBasicConsumer(channel);
        int unacked = 0, seen = 0;
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            _ = JsonSerializer.Deserialize<Envelope>(delivery.Body.Span, JsonSerializerOptions.Web)!.Message;
            seen++;
            if (++unacked < batch && seen < expected)
                return;
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: true);
            consumed(unacked);
            unacked = 0;
        };
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer);
        return channel;
    }

    private sealed record Envelope(AnswerSubmitted Message);

    public async ValueTask DisposeAsync()
    {
        await _control.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
