using Npgsql;
using Telemetry.Database;
using Xunit;

namespace Telemetry.StatsApi.Tests;

/// <summary>Invariant 6: the role the API connects with reads the aggregates and the key hashes, and writes nothing.</summary>
public sealed class ReadOnlyRoleTests(StatsApiFixture fixture) : IClassFixture<StatsApiFixture>
{
    private const string InsufficientPrivilege = "42501";

    [Theory]
    [InlineData("SELECT key_id, name, sha256, revoked_at FROM dashboard_api_keys")]
    [InlineData("SELECT count(*) FROM track_daily_aggregates")]
    [InlineData("SELECT count(*) FROM question_aggregates")]
    [InlineData("SELECT max(last_flush_at) FROM rollup_state")]
    public async Task The_stats_role_reads_what_the_api_serves(string sql) =>
        await RunAsStatsRoleAsync(sql);

    /// <summary>Least privilege: not even reads beyond what the API serves, nor a key's dates.</summary>
    [Theory]
    [InlineData("SELECT count(*) FROM question_daily_aggregates")]
    [InlineData("SELECT count(*) FROM cycle_daily_aggregates")]
    [InlineData("SELECT created_at FROM dashboard_api_keys")]
    [InlineData("SELECT * FROM dashboard_api_keys")]
    [InlineData("SELECT count(*) FROM processed_events")]
    [InlineData("SELECT count(*) FROM attempts")]
    [InlineData("SELECT count(*) FROM audit_logs")]
    public async Task The_stats_role_reads_nothing_else(string sql)
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => RunAsStatsRoleAsync(sql));

        Assert.Equal(InsufficientPrivilege, error.SqlState);
    }

    [Theory]
    [InlineData("INSERT INTO dashboard_api_keys (name, sha256) VALUES ('sneaky', sha256('x'))")]
    [InlineData("UPDATE dashboard_api_keys SET revoked_at = NULL")]
    [InlineData("DELETE FROM dashboard_api_keys")]
    [InlineData("UPDATE track_aggregates SET attempts_total = 0")]
    [InlineData("INSERT INTO track_daily_aggregates (track_id, day, attempts_total, answers_total, correct_total, duration_sum_sec, last_calculated_at) VALUES (gen_random_uuid(), current_date, 1, 1, 1, 1, now())")]
    [InlineData("DELETE FROM question_daily_aggregates")]
    [InlineData("UPDATE rollup_state SET last_flush_at = now()")]
    [InlineData("UPDATE cycles SET ends_at = ends_at + interval '1 day'")]
    [InlineData("TRUNCATE cycle_aggregates")]
    [InlineData("SELECT count(*) FROM answer_events")]
    [InlineData("CREATE TABLE sneaky (id int)")]
    public async Task The_stats_role_is_refused_every_write(string sql)
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => RunAsStatsRoleAsync(sql));

        Assert.Equal(InsufficientPrivilege, error.SqlState);
        Assert.Equal(3L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM dashboard_api_keys WHERE revoked_at IS NOT NULL OR name LIKE 'dashboard-%'"));
        Assert.Equal(4L, await fixture.Database.ScalarAsync<long>($"SELECT attempts_total FROM track_aggregates WHERE track_id = '{Seed.TrackA}'"));
    }

    private async Task RunAsStatsRoleAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(fixture.Database.ConnectionStringFor(DatabaseRoles.StatsApi));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
