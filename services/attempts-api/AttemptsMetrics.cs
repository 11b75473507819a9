using System.Diagnostics;
using System.Diagnostics.Metrics;
using Telemetry.AttemptsApi.Data;
using Telemetry.ServiceDefaults;

namespace Telemetry.AttemptsApi;

/// <summary>The attempts API's own meter and activity source (exported as "Telemetry." + the service name).</summary>
public sealed class AttemptsMetrics
{
    public static readonly ActivitySource ActivitySource = Observability.CreateSource(Extensions.ServiceName);

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _published;
    private readonly Counter<long> _publishFailures;
    private readonly TimeProvider _clock;
    private volatile OutboxBacklog? _backlog;

    public AttemptsMetrics(IMeterFactory meterFactory, TimeProvider clock)
    {
        _clock = clock;
        var meter = meterFactory.Create(Observability.SourcePrefix + Extensions.ServiceName);
        _accepted = meter.CreateCounter<long>("telemetry.attempts.accepted", description: "Attempts stored, by auto decision.");
        _published = meter.CreateCounter<long>("telemetry.outbox.published", description: "Outbox messages published and confirmed.");
        _publishFailures = meter.CreateCounter<long>("telemetry.outbox.publish_failures", description: "Outbox messages left unsent after a batch's retries.");
        // Absent until the first count, and while the database cannot be asked: a stale number would mislead.
        meter.CreateObservableGauge("telemetry.outbox.backlog", () => _backlog is { } b ? [new Measurement<long>(b.Unsent)] : Array.Empty<Measurement<long>>(),
            "{message}", "Outbox rows not yet published, counted every Relay__BacklogSampleInterval.");
        meter.CreateObservableGauge("telemetry.outbox.oldest_unsent_age", () => _backlog is { OldestUnsent: { } oldest }
                ? [new Measurement<double>(Math.Max(0, (_clock.GetUtcNow() - oldest).TotalSeconds))]
                : Array.Empty<Measurement<double>>(),
            "s", "Age of the oldest unpublished outbox row (absent when none is waiting).");
    }

    public void AttemptAccepted(string autoDecision) => _accepted.Add(1, new KeyValuePair<string, object?>("decision", autoDecision));

    public void Published(int count) => _published.Add(count);

    public void PublishFailed(int count) => _publishFailures.Add(count);

    /// <summary>The latest backlog count, or null when it could not be taken.</summary>
    public void Backlog(OutboxBacklog? backlog) => _backlog = backlog;
}
