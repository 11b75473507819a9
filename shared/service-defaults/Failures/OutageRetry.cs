using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Telemetry.ServiceDefaults.Failures;

/// <summary>
/// Runs work that must not fail because the world is broken: an outage (<see cref="FailureKind.IsOutage"/>) is retried
/// for as long as it lasts, with capped exponential backoff and jitter; any other failure propagates at once. The
/// caller holds its work (a consumer its unacknowledged batch, so it takes no new deliveries) while it waits. The
/// service logs once when an outage begins and once when work succeeds again, not once per try or per message.
/// </summary>
public sealed partial class OutageRetry
{
    private readonly ResiliencePipeline _pipeline;
    private readonly TimeProvider _clock;
    private readonly ILogger<OutageRetry> _logger;
    private readonly Lock _lock = new();
    private DateTimeOffset? _since;
    private string? _failure;
    private long _retries;

    public OutageRetry(IOptions<OutageRetryOptions> options, TimeProvider clock, ILogger<OutageRetry> logger)
    {
        _clock = clock;
        _logger = logger;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = clock }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.Value.FirstDelay,
                MaxDelay = options.Value.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } ex && FailureKind.IsOutage(ex) && !args.Context.CancellationToken.IsCancellationRequested),
                OnRetry = args =>
                {
                    Began(args.Outcome.Exception!);
                    return default;
                },
            })
            .Build();
    }

    /// <summary>The current outage's start and latest failure (type and SQLSTATE, if any), or null while work succeeds.</summary>
    public (DateTimeOffset Since, string Failure)? Current
    {
        get
        {
            lock (_lock)
                return _since is { } since ? (since, _failure!) : null;
        }
    }

    public async ValueTask<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
    {
        var result = await _pipeline.ExecuteAsync(work, cancellationToken);
        Ended();
        return result;
    }

    public async ValueTask ExecuteAsync(Func<CancellationToken, ValueTask> work, CancellationToken cancellationToken)
    {
        await _pipeline.ExecuteAsync(work, cancellationToken);
        Ended();
    }

    private void Began(Exception exception)
    {
        var failure = Describe(exception);
        lock (_lock)
        {
            _retries++;
            _failure = failure;
            if (_since is not null)
                return;
            _since = _clock.GetUtcNow();
        }
        LogOutageBegan(exception, failure);
    }

    private static string Describe(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is Npgsql.PostgresException postgres)
                return $"PostgresException {postgres.SqlState}";
        return exception.GetBaseException().GetType().Name;
    }

    private void Ended()
    {
        DateTimeOffset since;
        long retries;
        lock (_lock)
        {
            if (_since is null)
                return;
            (since, retries, _since, _failure, _retries) = (_since.Value, _retries, null, null, 0);
        }
        LogOutageEnded((_clock.GetUtcNow() - since).TotalSeconds, retries);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A dependency is unavailable ({Failure}): holding the work and retrying with backoff until it answers")]
    private partial void LogOutageBegan(Exception exception, string failure);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dependency available again after {Seconds:0.0} s ({Retries} retries): work resumed")]
    private partial void LogOutageEnded(double seconds, long retries);
}
