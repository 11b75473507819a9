using MassTransit;
using Telemetry.ServiceDefaults;

namespace Telemetry.EventProcessing;

/// <summary>
/// Moves one message of a batch to the endpoint's error queue with the reason, so a bad message never stalls or
/// half-applies the rest of its batch. The headers follow MassTransit's fault headers, so its tooling reads them.
/// </summary>
public static class DeadLetters
{
    public static async Task SendAsync<T>(ConsumeContext<T> message, string reason) where T : class
    {
        var errorQueue = new Uri($"queue:{BrokerTopology.ErrorQueue(message.ReceiveContext.InputAddress.AbsolutePath.Split('/').Last())}");
        var endpoint = await message.GetSendEndpoint(errorQueue);
        await endpoint.Send(message.Message, send =>
        {
            send.MessageId = message.MessageId;
            send.CorrelationId = message.CorrelationId;
            send.Headers.Set(MessageHeaders.Reason, "rejected");
            send.Headers.Set(MessageHeaders.FaultMessage, reason);
            send.Headers.Set(MessageHeaders.FaultTimestamp, DateTime.UtcNow.ToString("O"));
            send.Headers.Set(MessageHeaders.FaultInputAddress, message.ReceiveContext.InputAddress.ToString());
        });
    }
}
