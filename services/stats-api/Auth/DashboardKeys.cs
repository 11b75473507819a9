using System.ComponentModel.DataAnnotations;

namespace Telemetry.StatsApi.Auth;

/// <summary>
/// How the stats API reads the dashboard_api_keys table (keys are managed with `setup dashboard-key
/// add|revoke|list|ensure`; only their SHA-256 is stored).
/// </summary>
public sealed class DashboardKeys
{
    /// <summary>How long the key table is trusted from memory: a revocation takes effect within this time.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// An unknown key makes the API look in the table again (a key added a moment ago works at once), but not more
    /// often than this, so that a flood of wrong keys costs the database at most one query per interval.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan UnknownKeyRecheckInterval { get; set; } = TimeSpan.FromSeconds(1);
}
