namespace Telemetry.Database;

/// <summary>The least-privilege login roles, one per service. Migrations grant them; the setup step gives them passwords.</summary>
public static class DatabaseRoles
{
    public const string AttemptsApi = "telemetry_attempts";
    public const string EventIngestor = "telemetry_ingestor";
    public const string Aggregator = "telemetry_aggregator";
    public const string StatsApi = "telemetry_stats";

    public static readonly IReadOnlyList<string> All = [AttemptsApi, EventIngestor, Aggregator, StatsApi];
}
