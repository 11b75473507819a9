namespace Telemetry.Testing;

/// <summary>A clock the test moves by hand (timers are not needed by the code under test that uses it).</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
