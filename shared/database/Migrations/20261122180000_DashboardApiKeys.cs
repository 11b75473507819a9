using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Telemetry.Database.Migrations;

/// <summary>
/// API keys of the dashboard services, stored only as SHA-256 digests. Operators manage them with
/// `setup dashboard-key add|revoke|list|ensure` (admin connection); the stats API may only read the columns it checks
/// a key against. A revoked key keeps its row, so the API can answer 403 rather than 401 and the name stays in the
/// history. Also narrows telemetry_stats to what the API serves: it has no use for the per-question and per-cycle
/// daily buckets.
/// </summary>
[DbContext(typeof(SchemaDbContext))]
[Migration("20261122180000_DashboardApiKeys")]
public sealed class DashboardApiKeys : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            CREATE TABLE dashboard_api_keys (
                key_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name       text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
                sha256     bytea NOT NULL UNIQUE CHECK (length(sha256) = 32),
                created_at timestamptz NOT NULL DEFAULT now(),
                revoked_at timestamptz NULL,
                CHECK (revoked_at IS NULL OR revoked_at >= created_at)
            );
            GRANT SELECT (key_id, name, sha256, revoked_at) ON dashboard_api_keys TO telemetry_stats;
            REVOKE SELECT ON question_daily_aggregates, cycle_daily_aggregates FROM telemetry_stats;
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            GRANT SELECT ON question_daily_aggregates, cycle_daily_aggregates TO telemetry_stats;
            DROP TABLE IF EXISTS dashboard_api_keys;
            """);
}
