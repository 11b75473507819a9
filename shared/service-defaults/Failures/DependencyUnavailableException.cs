namespace Telemetry.ServiceDefaults.Failures;

/// <summary>A dependency is not ready for this work yet; <see cref="FailureKind.IsOutage"/> counts it as an outage.</summary>
public class DependencyUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
