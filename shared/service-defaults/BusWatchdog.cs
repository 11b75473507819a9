using System.ComponentModel.DataAnnotations;
using MassTransit;
using ValidationResult = System.ComponentModel.DataAnnotations.ValidationResult;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Telemetry.ServiceDefaults;

/// <summary>Settings of <see cref="BusWatchdog"/> (section BusWatchdogOptions, env BusWatchdogOptions__*).</summary>
public sealed class BusWatchdogOptions : IValidatableObject
{
    /// <summary>Off only for a test that needs the bus to stay broken.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// How long the receive endpoints may stay unhealthy while RabbitMQ accepts connections before the bus is restarted.
    /// Above MassTransit's own reconnect backoff (30 s at most), so a reconnect that would still succeed is not preempted.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")] public TimeSpan UnhealthyFor { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>How often the bus's health is looked at (RabbitMQ is only probed while the bus is unhealthy).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")] public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a restart waits for the bus to stop (in-flight batches to finish). A bus that does not stop in time cannot
    /// be started again in this process: the process then exits with code <see cref="BusWatchdog.StuckExitCode"/>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")] public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Restarts in a row that leave the bus unhealthy while RabbitMQ is reachable; one more stuck period and the process
    /// exits with code <see cref="BusWatchdog.StuckExitCode"/> so its supervisor starts a fresh one. 0: exit at the first.
    /// </summary>
    [Range(0, 100)] public int MaxRestarts { get; set; } = 3;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (CheckInterval >= UnhealthyFor)
            yield return new ValidationResult(
                $"CheckInterval ({CheckInterval}) must be shorter than UnhealthyFor ({UnhealthyFor}).",
                [nameof(CheckInterval), nameof(UnhealthyFor)]);
    }
}

public enum WatchdogVerdict
{
    /// <summary>Healthy, RabbitMQ away (MassTransit is right to be down), or not stuck long enough yet.</summary>
    Wait,

    /// <summary>Stuck for <see cref="BusWatchdogOptions.UnhealthyFor"/> while RabbitMQ is reachable: restart the bus.</summary>
    Restart,

    /// <summary>Still stuck after <see cref="BusWatchdogOptions.MaxRestarts"/> restarts: only a new process can help.</summary>
    Exit,
}

/// <summary>The watchdog's decision, apart from the bus and the clock so that it can be tested alone.</summary>
public sealed class BusWatchdogPolicy(BusWatchdogOptions options)
{
    private DateTimeOffset? _stuckSince;

    /// <summary>Restarts since the bus was last healthy.</summary>
    public int Restarts { get; private set; }

    /// <summary>Since when the bus has been unhealthy with RabbitMQ reachable (null when it is not).</summary>
    public DateTimeOffset? StuckSince => _stuckSince;

    public WatchdogVerdict Observe(DateTimeOffset now, bool busHealthy, bool brokerReachable)
    {
        if (busHealthy)
        {
            _stuckSince = null;
            Restarts = 0;
            return WatchdogVerdict.Wait;
        }

        // MassTransit keeps retrying while the broker is away; the clock starts once the broker is back.
        if (!brokerReachable)
        {
            _stuckSince = null;
            return WatchdogVerdict.Wait;
        }

        _stuckSince ??= now;
        if (now - _stuckSince.Value < options.UnhealthyFor)
            return WatchdogVerdict.Wait;

        // A restart gets a full period of its own to bring the endpoints back.
        _stuckSince = null;
        if (Restarts >= options.MaxRestarts)
            return WatchdogVerdict.Exit;
        Restarts++;
        return WatchdogVerdict.Restart;
    }
}

/// <summary>
/// Restarts the bus when its receive endpoints stay unhealthy although RabbitMQ accepts connections. MassTransit 8.4 can
/// keep a connection the broker dropped when it crashed while deliveries were unacknowledged: every reconnect of the receive
/// transport then fails with AlreadyClosedException, for good. Stopping the bus stops the host's connection supervisor, and
/// starting it again opens a new connection; unacknowledged messages are redelivered and the consumers are idempotent.
/// An endpoint can also hang while stopping its consumer after a crash; then the bus cannot stop, a start does nothing
/// ("host already started"), and only a new process helps: the watchdog stops this one with a non-zero exit code.
/// </summary>
public sealed partial class BusWatchdog(
    IBusControl bus,
    BrokerProbe probe,
    IOptions<BusWatchdogOptions> options,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<BusWatchdog> logger) : BackgroundService
{
    /// <summary>EX_SOFTWARE: the process gave up on its bus and asks its supervisor for a restart.</summary>
    public const int StuckExitCode = 70;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
            return;
        var policy = new BusWatchdogPolicy(settings);
        using var timer = new PeriodicTimer(settings.CheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var health = bus.CheckHealth();
                var healthy = health.Status == BusHealthStatus.Healthy;
                var unreachable = healthy ? null : await probe.ConnectAsync(stoppingToken);
                var stuckSince = policy.StuckSince ?? time.GetUtcNow();
                switch (policy.Observe(time.GetUtcNow(), healthy, unreachable is null))
                {
                    case WatchdogVerdict.Restart:
                        LogRestarting(logger, time.GetUtcNow() - stuckSince, policy.Restarts, settings.MaxRestarts, probe.Describe(), health.Status, health.Description);
                        if (await RestartAsync(settings, stoppingToken))
                            break;
                        LogStopStuck(logger, settings.StopTimeout, StuckExitCode);
                        Exit();
                        return;
                    case WatchdogVerdict.Exit:
                        LogGivingUp(logger, time.GetUtcNow() - stuckSince, policy.Restarts, probe.Describe(), health.Status, health.Description, StuckExitCode);
                        Exit();
                        return;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Exit()
    {
        Environment.ExitCode = StuckExitCode;
        lifetime.StopApplication();
    }

    /// <summary>False when the bus could not be stopped: it then stays "started" and a start would do nothing.</summary>
    private async Task<bool> RestartAsync(BusWatchdogOptions settings, CancellationToken stoppingToken)
    {
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
        {
            stop.CancelAfter(settings.StopTimeout);
            try
            {
                await bus.StopAsync(stop.Token);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogStopFailed(logger, ex);
                return false;
            }

            // Seen after a broker crash: an endpoint stuck stopping its consumer makes the stop give up without an error.
            stoppingToken.ThrowIfCancellationRequested();
            if (stop.IsCancellationRequested)
                return false;
        }

        try
        {
            // Returns once the bus runs; its endpoints connect on their own, and the next look at its health judges them.
            using var start = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            start.CancelAfter(settings.UnhealthyFor);
            await bus.StartAsync(start.Token);
            var health = bus.CheckHealth();
            LogRestarted(logger, health.Status, health.Description);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            LogStartFailed(logger, ex);
        }
        return true;
    }

    [LoggerMessage(1, LogLevel.Warning,
        "Bus watchdog: the receive endpoints have been {BusStatus} for {StuckFor} while RabbitMQ at {Broker} accepts connections; restarting the bus (restart {Restart} of {MaxRestarts}). MassTransit said: {BusDescription}")]
    private static partial void LogRestarting(ILogger logger, TimeSpan stuckFor, int restart, int maxRestarts, string broker, BusHealthStatus busStatus, string? busDescription);

    [LoggerMessage(2, LogLevel.Critical,
        "Bus watchdog: the receive endpoints have been {BusStatus} for {StuckFor} while RabbitMQ at {Broker} accepts connections, after {Restarts} bus restarts; stopping the process with exit code {ExitCode} so that its supervisor starts a new one. MassTransit said: {BusDescription}")]
    private static partial void LogGivingUp(ILogger logger, TimeSpan stuckFor, int restarts, string broker, BusHealthStatus busStatus, string? busDescription, int exitCode);

    [LoggerMessage(3, LogLevel.Warning, "Bus watchdog: the bus could not be stopped")]
    private static partial void LogStopFailed(ILogger logger, Exception exception);

    [LoggerMessage(4, LogLevel.Warning, "Bus watchdog: the bus could not be started again; the next stuck period decides")]
    private static partial void LogStartFailed(ILogger logger, Exception exception);

    [LoggerMessage(6, LogLevel.Critical,
        "Bus watchdog: the bus did not stop within {StopTimeout} (a receive endpoint is stuck stopping), so it cannot be restarted in this process; stopping the process with exit code {ExitCode} so that its supervisor starts a new one")]
    private static partial void LogStopStuck(ILogger logger, TimeSpan stopTimeout, int exitCode);

    [LoggerMessage(5, LogLevel.Warning, "Bus watchdog: the bus was restarted; MassTransit now says {BusStatus}: {BusDescription}")]
    private static partial void LogRestarted(ILogger logger, BusHealthStatus busStatus, string? busDescription);
}
