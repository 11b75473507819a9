using System.Diagnostics;
using System.Text.Json;
using RabbitMQ.Client;
using Telemetry.Contracts;
using Telemetry.ServiceDefaults;
using Telemetry.Testing;

namespace Telemetry.Bench.Ingestor;

/// <summary>
/// The backlog: valid AnswerSubmitted events for whole attempts, serialized once as MassTransit JSON envelopes and
/// published with raw RabbitMQ.Client straight into a consumer queue (several channels, many confirms in flight),
/// which is several times faster than publishing through MassTransit.
/// </summary>
public sealed class Backlog : IAsyncDisposable
{
    private const int Channels = 4;
    private const int InFlightPerChannel = 500;
    private static readonly string MessageType = $"urn:message:{typeof(AnswerSubmitted).Namespace}:{nameof(AnswerSubmitted)}";

    private readonly IConnection _connection;
    private readonly IChannel _control;
    private readonly IReadOnlyList<byte[]> _bodies;

    private Backlog(IConnection connection, IChannel control, IReadOnlyList<AnswerSubmitted> events, IReadOnlyList<byte[]> bodies)
    {
        _connection = connection;
        _control = control;
        Events = events;
        _bodies = bodies;
    }

    public IReadOnlyList<AnswerSubmitted> Events { get; }

    public static async Task<Backlog> CreateAsync(RabbitMqAddress broker, int count)
    {
        var events = Generate(count);
        var bodies = events.Select(Envelope).ToArray();
        var factory = new ConnectionFactory
        {
            HostName = broker.Host, Port = broker.Port, VirtualHost = broker.VirtualHost, UserName = broker.Username, Password = broker.Password,
        };
        var connection = await factory.CreateConnectionAsync("bench-backlog");
        return new Backlog(connection, await connection.CreateChannelAsync(), events, bodies);
    }

    /// <summary>Publishes every event once into the queue, each confirmed by the broker; prints progress.</summary>
    public async Task LoadAsync(string queue)
    {
        var started = Stopwatch.StartNew();
        long published = 0;
        var nextReport = 50_000L;
        var gate = new Lock();
        var slices = Enumerable.Range(0, Channels).Select(async channel =>
        {
            await using var publisher = await _connection.CreateChannelAsync(new CreateChannelOptions(
                publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
                outstandingPublisherConfirmationsRateLimiter: new ThrottlingRateLimiter(InFlightPerChannel * 2)));
            var properties = new BasicProperties { ContentType = "application/vnd.masstransit+json", DeliveryMode = DeliveryModes.Persistent };
            for (var start = channel * InFlightPerChannel; start < _bodies.Count; start += Channels * InFlightPerChannel)
            {
                var end = Math.Min(start + InFlightPerChannel, _bodies.Count);
                var confirms = new List<Task>(end - start);
                for (var i = start; i < end; i++)
                    confirms.Add(publisher.BasicPublishAsync("", queue, mandatory: true, properties, _bodies[i]).AsTask());
                await Task.WhenAll(confirms);
                var total = Interlocked.Add(ref published, end - start);
                lock (gate)
                    if (total >= nextReport)
                    {
                        Console.Error.WriteLine($"    published {total:N0}/{_bodies.Count:N0} ({total / started.Elapsed.TotalSeconds:N0} msg/s)");
                        nextReport += 50_000;
                    }
            }
        });
        await Task.WhenAll(slices);
        var ready = await ReadyAsync(queue);
        if (ready != _bodies.Count)
            throw new InvalidOperationException($"{queue} holds {ready} ready messages after loading {_bodies.Count}");
        Console.Error.WriteLine($"    backlog of {ready:N0} in {queue} in {started.Elapsed.TotalSeconds:N1}s ({ready / started.Elapsed.TotalSeconds:N0} msg/s, confirmed)");
    }

    public async Task<uint> ReadyAsync(string queue) => (await _control.QueueDeclarePassiveAsync(queue)).MessageCount;

    /// <summary>Ready messages in a queue that may not exist (0 then): a failed passive declare closes its channel.</summary>
    public async Task<uint> ReadyIfExistsAsync(string queue)
    {
        await using var channel = await _connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
    }

    public async Task PurgeAsync(string queue) => await _control.QueuePurgeAsync(queue);

    public async ValueTask DisposeAsync()
    {
        await _control.DisposeAsync();
        await _connection.DisposeAsync();
    }

    /// <summary>Attempts of 5 answers across 20 tracks of 50 questions, created over the last six hours.</summary>
    private static List<AnswerSubmitted> Generate(int count)
    {
        var random = new Random(42);
        var tracks = Enumerable.Range(0, 20).Select(_ => (Id: Guid.NewGuid(), Questions: Enumerable.Range(0, 50).Select(_ => Guid.NewGuid()).ToArray())).ToArray();
        var now = DateTimeOffset.UtcNow;
        var events = new List<AnswerSubmitted>(count);
        while (events.Count < count)
        {
            var (track, questions) = tracks[random.Next(tracks.Length)];
            var answers = questions.OrderBy(_ => random.Next()).Take(Math.Min(5, count - events.Count)).Select(q => (q, random.Next(3) > 0)).ToList();
            events.AddRange(SampleEvents.Attempt(track, answers, durationSec: random.Next(20, 600), cycleNumber: random.Next(2) == 0 ? null : 7,
                createdAt: now.AddSeconds(-random.Next(6 * 3600)), wallet: $"0x{random.Next():x8}{random.Next():x8}"));
        }
        return events;
    }

    private static byte[] Envelope(AnswerSubmitted message) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        messageId = message.EventId,
        conversationId = message.EventId,
        messageType = new[] { MessageType },
        message,
        sentTime = DateTime.UtcNow,
        headers = new Dictionary<string, object>(),
    }, JsonSerializerOptions.Web);
}
