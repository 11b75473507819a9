using System.Runtime.CompilerServices;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Telemetry.Setup.DeadLetters;

/// <summary>
/// A pass over an error queue that removes only the messages it is told to and leaves every other one where it was.
/// </summary>
/// <remarks>
/// Messages are taken with basic.get and manual acks, and every message not removed stays unacknowledged until the
/// pass ends, when one nack (multiple, requeue) returns them all; a crash or a closed channel returns them the same way.
/// RabbitMQ puts a requeued message back at its original position in a classic queue (error queues are classic), so
/// the queue keeps its order and a look consumes nothing. A nack per message would not do: basic.get would hand the
/// same message straight back. The pass reads at most the messages there at its start, so it ends even while new
/// dead letters keep arriving.
/// </remarks>
internal sealed class ErrorQueue : IAsyncDisposable
{
    private readonly IChannel _channel;
    private readonly HashSet<ulong> _held = [];

    private ErrorQueue(string name, IChannel channel, uint count)
    {
        Name = name;
        _channel = channel;
        Count = count;
    }

    public string Name { get; }

    /// <summary>Messages in the queue when the pass started.</summary>
    public uint Count { get; }

    /// <returns>Null when the queue does not exist.</returns>
    public static async Task<ErrorQueue?> OpenAsync(IConnection connection, string name, CancellationToken cancellationToken)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            var declared = await channel.QueueDeclarePassiveAsync(name, cancellationToken);
            return new ErrorQueue(name, channel, declared.MessageCount);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            await channel.DisposeAsync();
            return null;
        }
        catch
        {
            await channel.DisposeAsync();
            throw;
        }
    }

    public async IAsyncEnumerable<DeadLetter> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var read = 0u; read < Count; read++)
        {
            if (await _channel.BasicGetAsync(Name, autoAck: false, cancellationToken) is not { } message)
                yield break;
            _held.Add(message.DeliveryTag);
            yield return new DeadLetter(message.DeliveryTag, message.BasicProperties, message.Body.ToArray());
        }
    }

    public async Task RemoveAsync(DeadLetter letter, CancellationToken cancellationToken)
    {
        await _channel.BasicAckAsync(letter.DeliveryTag, multiple: false, cancellationToken);
        _held.Remove(letter.DeliveryTag);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_held.Count > 0 && _channel.IsOpen)
                await _channel.BasicNackAsync(_held.Max(), multiple: true, requeue: true);
            await _channel.CloseAsync();
        }
        finally
        {
            await _channel.DisposeAsync();
        }
    }
}
