using Microsoft.Extensions.Options;
using Telemetry.AttemptsApi.Data;
using Telemetry.ServiceDefaults.Failures;

namespace Telemetry.AttemptsApi.Outbox;

/// <summary>Counts the unsent outbox rows every <see cref="Relay.BacklogSampleInterval"/> for the backlog gauges.</summary>
public sealed class OutboxBacklogSampler(OutboxStore store, AttemptsMetrics metrics, IOptions<Relay> options, TimeProvider clock, ILogger<OutboxBacklogSampler> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                metrics.Backlog(await store.BacklogAsync(stoppingToken));
            }
            catch (Exception ex) when (FailureKind.IsOutage(ex) && !stoppingToken.IsCancellationRequested)
            {
                // The relay and readiness report the outage; the gauge just goes blank until the database answers.
                metrics.Backlog(null);
                logger.LogDebug(ex, "Outbox backlog not counted: the database did not answer");
            }
            await Task.Delay(options.Value.BacklogSampleInterval, clock, stoppingToken);
        }
    }
}
