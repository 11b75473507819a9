using System.Text.Json;
using MassTransit;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Telemetry.Contracts;
using Telemetry.Testing;

namespace Telemetry.IntegrationTests;

/// <summary>
/// Dead letters put into and taken out of queues past MassTransit, with the headers our consumers' DeadLetters and
/// MassTransit's fault path give them, and the body a MassTransit publish gives the event.
/// </summary>
public sealed class RawDeadLetters : IAsyncDisposable
{
    private static readonly string MessageType = $"urn:message:{typeof(AnswerSubmitted).Namespace}:{nameof(AnswerSubmitted)}";

    private readonly IConnection _connection;
    private readonly IChannel _channel;

    private RawDeadLetters(IConnection connection, IChannel channel)
    {
        _connection = connection;
        _channel = channel;
    }

    public static async Task<RawDeadLetters> ConnectAsync(TestBroker broker)
    {
        var connection = await new ConnectionFactory { Uri = new Uri(broker.AmqpUri), ClientProvidedName = "dead-letter tests" }.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        return new RawDeadLetters(connection, channel);
    }

    /// <summary>A durable classic queue, as MassTransit declares an error queue.</summary>
    public async Task DeclareAsync(string queue) =>
        await _channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);

    /// <summary>
    /// Puts an event in a queue as a dead letter: with MT-Reason "rejected" and the reason, as DeadLetters sends a
    /// refused event, or with an exception type, as MassTransit faults a message. <paramref name="faultedAt"/> goes in
    /// MT-Fault-Timestamp, <paramref name="amqpTimestamp"/> in the AMQP timestamp property.
    /// </summary>
    public async Task PutAsync(string queue, AnswerSubmitted message, string reason, DateTimeOffset? faultedAt,
        string? exceptionType = null, DateTimeOffset? amqpTimestamp = null)
    {
        var headers = new Dictionary<string, object?>
        {
            [MessageHeaders.Reason] = exceptionType is null ? "rejected" : "fault",
            [MessageHeaders.FaultMessage] = reason,
            [MessageHeaders.FaultInputAddress] = $"rabbitmq://localhost/vhost/{queue.Replace("_error", "")}",
        };
        if (exceptionType is not null)
            headers[MessageHeaders.FaultExceptionType] = exceptionType;
        if (faultedAt is { } at)
            headers[MessageHeaders.FaultTimestamp] = at.UtcDateTime.ToString("O");
        var properties = new BasicProperties
        {
            MessageId = message.EventId.ToString(),
            ContentType = "application/vnd.masstransit+json",
            DeliveryMode = DeliveryModes.Persistent,
            Headers = headers,
        };
        if (amqpTimestamp is { } stamp)
            properties.Timestamp = new AmqpTimestamp(stamp.ToUnixTimeSeconds());
        await _channel.BasicPublishAsync("", queue, mandatory: true, properties, Envelope(message));
    }

    /// <summary>Takes every message off a queue, in order.</summary>
    public async Task<List<TakenMessage>> TakeAllAsync(string queue)
    {
        var taken = new List<TakenMessage>();
        while (await _channel.BasicGetAsync(queue, autoAck: true) is { } message)
        {
            using var envelope = JsonDocument.Parse(message.Body);
            var headers = message.BasicProperties.Headers ?? new Dictionary<string, object?>();
            taken.Add(new TakenMessage(
                message.BasicProperties.MessageId,
                envelope.RootElement.GetProperty("messageId").GetGuid(),
                envelope.RootElement.GetProperty("message").GetProperty("eventId").GetGuid(),
                headers.Keys.ToList()));
        }
        return taken;
    }

    /// <summary>Messages ready in a queue that may not exist yet (0 then): a failed passive declare closes its channel.</summary>
    public async Task<uint> CountAsync(string queue)
    {
        await using var channel = await _connection.CreateChannelAsync();
        try
        {
            return await channel.MessageCountAsync(queue);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
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

/// <summary>A message taken off a queue: its AMQP message_id, its envelope's messageId, the event's id, its header names.</summary>
public sealed record TakenMessage(string? MessageId, Guid EnvelopeMessageId, Guid EventId, IReadOnlyList<string> HeaderNames);
