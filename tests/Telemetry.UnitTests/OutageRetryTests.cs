using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Telemetry.ServiceDefaults.Failures;
using Xunit;

namespace Telemetry.UnitTests;

public sealed class OutageRetryTests
{
    private readonly FakeTimeProvider _clock = new();
    private readonly RecordingLogger _log = new();
    private readonly OutageRetry _retry;

    public OutageRetryTests() =>
        _retry = new OutageRetry(
            Options.Create(new OutageRetryOptions { FirstDelay = TimeSpan.FromMilliseconds(200), MaxDelay = TimeSpan.FromSeconds(5) }), _clock, _log);

    [Fact]
    public async Task An_outage_is_retried_for_as_long_as_it_lasts_with_pauses_capped_at_the_longest_delay_and_logged_once_each_way()
    {
        var failuresLeft = 200;
        var attempts = 0;
        var work = _retry.ExecuteAsync(_ =>
        {
            attempts++;
            return failuresLeft-- > 0 ? throw new NpgsqlException("refused", new System.Net.Sockets.SocketException()) : ValueTask.FromResult(42);
        }, CancellationToken.None).AsTask();

        // 200 failures with pauses of at most 5 s: well within 20 simulated minutes, at least 200 * 0.2 s apart in all.
        for (var step = 0; step < 1200 && !work.IsCompleted; step++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(1);
        }

        Assert.Equal(42, await work);
        Assert.Equal(201, attempts);
        Assert.Null(_retry.Current);
        Assert.Equal([LogLevel.Warning, LogLevel.Information], _log.Levels);
    }

    [Fact]
    public async Task A_failure_that_is_not_an_outage_propagates_at_once()
    {
        var attempts = 0;
        await Assert.ThrowsAsync<PostgresException>(async () => await _retry.ExecuteAsync<int>(_ =>
        {
            attempts++;
            throw new PostgresException("value too long", "ERROR", "ERROR", "22001");
        }, CancellationToken.None));

        Assert.Equal(1, attempts);
        Assert.Empty(_log.Levels);
    }

    [Fact]
    public async Task Stopping_ends_the_wait_with_a_cancellation_so_the_message_goes_back_to_its_queue()
    {
        using var stopping = new CancellationTokenSource();
        var work = _retry.ExecuteAsync<int>(_ => throw new TimeoutException(), stopping.Token).AsTask();
        await Task.Delay(10);
        Assert.NotNull(_retry.Current);

        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => work);
    }

    [Fact]
    public async Task Readiness_names_the_held_work_and_its_SQLSTATE_while_an_outage_lasts_and_clears_when_it_ends()
    {
        var check = new OutageHealthCheck(_retry);
        var failing = true;
        var work = _retry.ExecuteAsync(_ =>
            failing ? throw new PostgresException("read-only", "ERROR", "ERROR", "25006") : ValueTask.FromResult(1), CancellationToken.None).AsTask();
        await Task.Delay(10);

        var held = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Unhealthy, held.Status);
        Assert.Contains("PostgresException 25006", held.Description);

        failing = false;
        for (var step = 0; step < 100 && !work.IsCompleted; step++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(1);
        }
        await work;
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
    }

    private sealed class RecordingLogger : ILogger<OutageRetry>
    {
        public List<LogLevel> Levels { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Levels.Add(logLevel);
    }
}
