using System.Text.Json;

namespace Telemetry.AttemptsApi.Outbox;

/// <summary>
/// Wakes every relay worker as soon as a submit commits. A worker takes <see cref="Next"/> before it looks for rows,
/// so a notification that lands while it is busy is not lost.
/// </summary>
public sealed class OutboxSignal
{
    private TaskCompletionSource _next = NewSource();

    public Task Next => Volatile.Read(ref _next).Task;

    public void Notify() => Interlocked.Exchange(ref _next, NewSource()).TrySetResult();

    /// <summary>Returns when <paramref name="wake"/> completes or after <paramref name="timeout"/>.</summary>
    public static async Task WaitAsync(Task wake, TimeSpan timeout, TimeProvider clock, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await Task.WhenAny(wake, Task.Delay(timeout, clock, stop.Token));
        await stop.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>An outbox row's payload is the message's JSON, camelCase like the HTTP API.</summary>
public static class OutboxPayload
{
    public static readonly JsonSerializerOptions SerializerOptions = JsonSerializerOptions.Web;
}
