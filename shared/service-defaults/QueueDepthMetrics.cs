using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Telemetry.ServiceDefaults;

/// <summary>
/// The telemetry.queue.messages gauge: ready messages in a consumer's queue and its error queue, counted with a passive
/// declare over <see cref="BrokerProbe"/>'s connection every <see cref="QueueDepthMetricsOptions.Interval"/>. A queue
/// that does not exist yet (an error queue before its first dead letter) or cannot be counted has no sample.
/// </summary>
public sealed class QueueDepthMetrics : BackgroundService
{
    private readonly BrokerProbe _probe;
    private readonly IReadOnlyList<string> _queues;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _clock;
    private readonly ILogger<QueueDepthMetrics> _logger;
    private readonly ConcurrentDictionary<string, long> _depths = new();

    public QueueDepthMetrics(
        BrokerProbe probe, IReadOnlyList<string> queues, TimeSpan interval, IMeterFactory meterFactory, ServiceIdentity identity, TimeProvider clock,
        ILogger<QueueDepthMetrics> logger)
    {
        (_probe, _queues, _interval, _clock, _logger) = (probe, queues, interval, clock, logger);
        meterFactory.Create(Observability.SourcePrefix + identity.Name).CreateObservableGauge(
            "telemetry.queue.messages",
            () => _depths.Select(d => new Measurement<long>(d.Value, new KeyValuePair<string, object?>("queue", d.Key))),
            "{message}", "Ready messages in this consumer's queue and its error queue.");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var queue in _queues)
            {
                try
                {
                    var connection = await _probe.OpenConnectionAsync(stoppingToken);
                    await using var channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
                    _depths[queue] = (await channel.QueueDeclarePassiveAsync(queue, stoppingToken)).MessageCount;
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // A gauge never stops a consumer: a broker outage or a missing queue just leaves no sample.
                    _depths.TryRemove(queue, out _);
                    _logger.LogDebug(ex, "Queue {Queue} not counted", queue);
                }
            }
            await Task.Delay(_interval, _clock, stoppingToken);
        }
    }
}
