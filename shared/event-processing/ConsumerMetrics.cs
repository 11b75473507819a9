using System.Diagnostics.Metrics;
using Telemetry.Contracts;
using Telemetry.ServiceDefaults;

namespace Telemetry.EventProcessing;

/// <summary>
/// What both consumers report on /metrics: events by outcome (new = stored by the ingestor, applied by the
/// aggregator), dead letters, how old events are when committed (the queue's lag in time), the age of the last
/// committed batch (the aggregator's flush) and of the last completed retention run.
/// </summary>
public sealed class ConsumerMetrics
{
    private static readonly double[] LagBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21600, 86400];

    private readonly TimeProvider _clock;
    private readonly Counter<long> _events;
    private readonly Counter<long> _deadLetters;
    private readonly Histogram<double> _lag;
    private readonly Counter<long> _partitionsDropped;
    private long _lastCommit;
    private long _lastRetention;

    public ConsumerMetrics(IMeterFactory meterFactory, ServiceIdentity identity, TimeProvider clock)
    {
        _clock = clock;
        // Until the first batch or run, ages count from the start, so a consumer that never commits still ages.
        _lastCommit = _lastRetention = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var meter = meterFactory.Create(Observability.SourcePrefix + identity.Name);
        _events = meter.CreateCounter<long>("telemetry.consumer.events", "{event}",
            "Events of committed batches, by outcome: new (stored or applied), duplicate (already there), refused (dead-lettered).");
        _deadLetters = meter.CreateCounter<long>("telemetry.dead_letters", "{message}", "Events sent to this consumer's error queue with a reason.");
        _lag = meter.CreateHistogram("telemetry.consumer.lag", "s", "Seconds from an event's createdAt to the commit of its batch.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LagBuckets });
        meter.CreateObservableGauge("telemetry.consumer.last_commit_age", () => AgeSeconds(Volatile.Read(ref _lastCommit)), "s",
            "Seconds since this instance last committed a batch (the aggregator's flush), or since it started.");
        _partitionsDropped = meter.CreateCounter<long>("telemetry.retention.partitions_dropped", "{partition}", "Daily partitions dropped by retention.");
        meter.CreateObservableGauge("telemetry.retention.last_run_age", () => AgeSeconds(Volatile.Read(ref _lastRetention)), "s",
            "Seconds since this instance last completed a retention run, or since it started.");
    }

    public void BatchCommitted(int newEvents, int duplicates, int refused, IReadOnlyCollection<AnswerSubmitted> committed)
    {
        _events.Add(newEvents, Outcome("new"));
        _events.Add(duplicates, Outcome("duplicate"));
        _events.Add(refused, Outcome("refused"));
        var now = _clock.GetUtcNow();
        foreach (var e in committed)
            _lag.Record(Math.Max(0, (now - e.CreatedAt).TotalSeconds));
        Interlocked.Exchange(ref _lastCommit, now.ToUnixTimeMilliseconds());
    }

    public void DeadLettered() => _deadLetters.Add(1);

    public void RetentionRan(string table, int partitionsDropped)
    {
        _partitionsDropped.Add(partitionsDropped, new KeyValuePair<string, object?>("table", table));
        Interlocked.Exchange(ref _lastRetention, _clock.GetUtcNow().ToUnixTimeMilliseconds());
    }

    private double AgeSeconds(long since) => (_clock.GetUtcNow().ToUnixTimeMilliseconds() - since) / 1000.0;

    private static KeyValuePair<string, object?> Outcome(string outcome) => new("outcome", outcome);
}
