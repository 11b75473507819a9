using Microsoft.Extensions.Options;
using Telemetry.AttemptsApi.Data;

namespace Telemetry.AttemptsApi.Outbox;

/// <summary>
/// Keeps the outbox bounded: every <see cref="OutboxRetention.Interval"/> (default 10 minutes) it deletes rows sent
/// more than <see cref="OutboxRetention.SentRowsFor"/> ago (default 1 day). Unsent rows are never deleted.
/// </summary>
public sealed partial class OutboxCleanup(OutboxStore store, IOptions<OutboxRetention> options, TimeProvider clock, ILogger<OutboxCleanup> logger)
    : BackgroundService
{
    private readonly OutboxRetention _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.Interval, clock);
        try
        {
            do
            {
                try
                {
                    await CleanOnceAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogFailed(ex, _options.Interval);
                }
            } while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public async Task<long> CleanOnceAsync(CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow() - _options.SentRowsFor;
        var deleted = await store.DeleteSentBeforeAsync(cutoff, _options.DeleteChunk, cancellationToken);
        if (deleted > 0)
            LogDeleted(deleted, cutoff);
        return deleted;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox cleanup deleted {Count} rows sent before {Cutoff:u}")]
    private partial void LogDeleted(long count, DateTimeOffset cutoff);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox cleanup failed; next try in {Interval}")]
    private partial void LogFailed(Exception exception, TimeSpan interval);
}
