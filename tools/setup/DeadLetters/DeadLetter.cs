using System.Globalization;
using System.Text;
using MassTransit;
using RabbitMQ.Client;

namespace Telemetry.Setup.DeadLetters;

/// <summary>
/// One message read from an error queue, with what MassTransit's fault path and our consumers' DeadLetters put in its
/// headers: why it failed (MT-Fault-ExceptionType, MT-Fault-Message, MT-Reason) and when (MT-Fault-Timestamp).
/// </summary>
internal sealed record DeadLetter(ulong DeliveryTag, IReadOnlyBasicProperties Properties, ReadOnlyMemory<byte> Body)
{
    /// <summary>"exception type: message" for a MassTransit fault, "rejected: reason" for an event our consumers refused.</summary>
    public string Reason =>
        (Header(MessageHeaders.FaultExceptionType) ?? Header(MessageHeaders.Reason), Header(MessageHeaders.FaultMessage)) switch
        {
            ({ } kind, { } message) => $"{kind}: {message}",
            (null, { } message) => message,
            ({ } kind, null) => kind,
            _ => "(no reason recorded)",
        };

    /// <summary>When it was dead-lettered: MT-Fault-Timestamp, else the AMQP timestamp, else unknown.</summary>
    public DateTimeOffset? FaultedAt =>
        Header(MessageHeaders.FaultTimestamp) is { } text
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at.ToUniversalTime()
            : Properties.IsTimestampPresent() && Properties.Timestamp.UnixTime > 0
                ? DateTimeOffset.FromUnixTimeSeconds(Properties.Timestamp.UnixTime)
                : null;

    /// <summary>
    /// The message as it was before it failed, for a replay: the same body (so the same envelope messageId) and
    /// properties (the same AMQP message_id), without the fault headers, which a new failure would set afresh.
    /// </summary>
    public BasicProperties Original()
    {
        var properties = new BasicProperties(Properties);
        if (properties.Headers is { } headers)
            properties.Headers = headers
                .Where(h => !h.Key.StartsWith("MT-Fault-", StringComparison.Ordinal)
                            && !h.Key.StartsWith("MT-Host-", StringComparison.Ordinal)
                            && h.Key != MessageHeaders.Reason)
                .ToDictionary();
        return properties;
    }

    private string? Header(string name) =>
        Properties.Headers?.TryGetValue(name, out var value) == true
            ? value switch
            {
                null => null,
                byte[] utf8 => Encoding.UTF8.GetString(utf8),
                AmqpTimestamp timestamp => DateTimeOffset.FromUnixTimeSeconds(timestamp.UnixTime).ToString("O"),
                _ => Convert.ToString(value, CultureInfo.InvariantCulture),
            }
            : null;
}
