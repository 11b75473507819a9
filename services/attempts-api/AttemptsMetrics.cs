using System.Diagnostics;
using System.Diagnostics.Metrics;
using Telemetry.ServiceDefaults;

namespace Telemetry.AttemptsApi;

/// <summary>The attempts API's own meter and activity source (exported with every "Telemetry.*" source).</summary>
public sealed class AttemptsMetrics
{
    public static readonly ActivitySource ActivitySource = Observability.CreateSource(Extensions.ServiceName);

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _published;
    private readonly Counter<long> _publishFailures;

    public AttemptsMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Observability.SourcePrefix + Extensions.ServiceName);
        _accepted = meter.CreateCounter<long>("telemetry.attempts.accepted", description: "Attempts stored, by auto decision.");
        _published = meter.CreateCounter<long>("telemetry.outbox.published", description: "Outbox messages published and confirmed.");
        _publishFailures = meter.CreateCounter<long>("telemetry.outbox.publish_failures", description: "Outbox messages left unsent after a batch's retries.");
    }

    public void AttemptAccepted(string autoDecision) => _accepted.Add(1, new KeyValuePair<string, object?>("decision", autoDecision));

    public void Published(int count) => _published.Add(count);

    public void PublishFailed(int count) => _publishFailures.Add(count);
}
