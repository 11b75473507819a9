using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Telemetry.AttemptsApi.Data;
using Telemetry.Contracts;

namespace Telemetry.AttemptsApi.Outbox;

/// <summary>
/// Publishes committed outbox rows to RabbitMQ. Each worker loops: claim a batch of unsent rows (FOR UPDATE SKIP LOCKED,
/// so workers and replicas never share a row), publish them concurrently with publisher confirms, each with the
/// event id as its MassTransit MessageId, mark the confirmed ones sent and commit. A submit wakes the workers at
/// once; otherwise they look every <see cref="Relay.IdleInterval"/>. While publishing fails (the broker is down),
/// rows stay unsent and whole batches are retried with capped exponential backoff and jitter: nothing is lost and
/// nothing spins. A row published but not marked (crash, lost commit) is published again with the same MessageId;
/// consumers deduplicate by event id.
/// </summary>
public sealed partial class OutboxRelay : BackgroundService
{
    private static readonly TimeSpan ProgressReportInterval = TimeSpan.FromMinutes(1);

    private readonly OutboxStore _store;
    private readonly IPublishEndpoint _publisher;
    private readonly OutboxSignal _signal;
    private readonly Relay _options;
    private readonly TimeProvider _clock;
    private readonly AttemptsMetrics _metrics;
    private readonly ILogger<OutboxRelay> _logger;
    private readonly ResiliencePipeline _publishPipeline;
    private readonly ResiliencePipeline _batchPipeline;
    private readonly Lock _progressLock = new();
    private long _relayedSinceReport;
    private DateTimeOffset _lastReport;
    private volatile bool _failing;

    public OutboxRelay(
        OutboxStore store,
        IBus bus,
        OutboxSignal signal,
        IOptions<Relay> options,
        TimeProvider clock,
        AttemptsMetrics metrics,
        ILogger<OutboxRelay> logger)
    {
        _store = store;
        _publisher = bus;
        _signal = signal;
        _options = options.Value;
        _clock = clock;
        _metrics = metrics;
        _logger = logger;
        _lastReport = clock.GetUtcNow();

        var publish = new ResiliencePipelineBuilder();
        if (_options.PublishRetries > 0)
            publish.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = _options.PublishRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
            });
        _publishPipeline = publish.AddTimeout(_options.PublishTimeout).Build();

        _batchPipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(500),
                MaxDelay = _options.MaxBackoff,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
                OnRetry = args =>
                {
                    _failing = true;
                    LogBatchFailed(args.Outcome.Exception, args.AttemptNumber + 1, args.RetryDelay);
                    return default;
                },
            })
            .Build();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, _options.Workers).Select(_ => Task.Run(() => RunWorkerAsync(stoppingToken), CancellationToken.None)));

    private async Task RunWorkerAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var wake = _signal.Next;
                var claimed = await _batchPipeline.ExecuteAsync(RelayBatchAsync, stoppingToken);
                if (claimed < _options.BatchSize)
                    await OutboxSignal.WaitAsync(wake, _options.IdleInterval, _clock, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: rows of an unfinished batch stay unsent and go out after the restart.
        }
    }

    /// <summary>Relays one batch; returns how many rows it claimed, or throws when any could not be published.</summary>
    private async ValueTask<int> RelayBatchAsync(CancellationToken cancellationToken)
    {
        await using var batch = await _store.ClaimAsync(_options.BatchSize, cancellationToken);
        if (batch.Rows.Count == 0)
            return 0;

        using var activity = AttemptsMetrics.ActivitySource.StartActivity("outbox relay batch");
        activity?.SetTag("outbox.claimed", batch.Rows.Count);
        var outcomes = await Task.WhenAll(batch.Rows.Select(row => PublishAsync(row, cancellationToken)));
        var sent = outcomes.Where(o => o.Error is null).Select(o => o.Row.Id).ToList();
        var failed = outcomes.Where(o => o.Error is not null).ToList();
        await batch.CompleteAsync(sent, failed.Select(o => o.Row.Id).ToList(), _clock.GetUtcNow(), cancellationToken);

        _metrics.Published(sent.Count);
        ReportProgress(sent.Count);
        foreach (var unreadable in failed.Where(o => o.Error is JsonException))
            LogUnreadablePayload(unreadable.Error, unreadable.Row.Id, unreadable.Row.MessageId);

        // An unreadable row is a bug to fix, not an outage: it must not slow the other rows down.
        var publishFailures = failed.Where(o => o.Error is not JsonException).ToList();
        if (publishFailures.Count > 0)
        {
            _metrics.PublishFailed(publishFailures.Count);
            throw new OutboxPublishException(publishFailures.Count, batch.Rows.Count, publishFailures[0].Error!);
        }
        if (_failing)
        {
            _failing = false;
            LogRecovered(sent.Count);
        }
        return batch.Rows.Count;
    }

    private async Task<PublishOutcome> PublishAsync(OutboxRow row, CancellationToken cancellationToken)
    {
        try
        {
            var message = JsonSerializer.Deserialize<AnswerSubmitted>(row.Payload, OutboxPayload.SerializerOptions)
                ?? throw new JsonException("The payload is JSON null.");
            if (message.EventId != row.MessageId)
                throw new JsonException($"The payload's eventId {message.EventId} is not the row's message_id.");
            // Continue the submit request's trace: MassTransit's send activity and the consumers become its children.
            using var activity = AttemptsMetrics.ActivitySource.StartActivity("outbox publish", ActivityKind.Producer, row.TraceParent);
            await _publishPipeline.ExecuteAsync(
                async token => await _publisher.Publish(message, context => context.MessageId = row.MessageId, token),
                cancellationToken);
            return new PublishOutcome(row, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new PublishOutcome(row, ex);
        }
    }

    private void ReportProgress(int relayed)
    {
        long total;
        DateTimeOffset since;
        lock (_progressLock)
        {
            _relayedSinceReport += relayed;
            var now = _clock.GetUtcNow();
            if (now - _lastReport < ProgressReportInterval)
                return;
            (total, since, _relayedSinceReport, _lastReport) = (_relayedSinceReport, _lastReport, 0, now);
        }
        if (total > 0)
            LogProgress(total, since);
    }

    private readonly record struct PublishOutcome(OutboxRow Row, Exception? Error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox relay published {Count} messages since {Since:u}")]
    private partial void LogProgress(long count, DateTimeOffset since);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox relay batch failed (try {Attempt}); the rows stay unsent, next try in {Delay}")]
    private partial void LogBatchFailed(Exception? exception, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox relay publishing again after failures ({Count} messages in the first good batch)")]
    private partial void LogRecovered(int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox row {RowId} (message {MessageId}) has an unreadable payload and cannot be published")]
    private partial void LogUnreadablePayload(Exception? exception, long rowId, Guid messageId);
}

public sealed class OutboxPublishException(int failed, int claimed, Exception firstError)
    : Exception($"{failed} of {claimed} outbox messages could not be published: {firstError.Message}", firstError);
