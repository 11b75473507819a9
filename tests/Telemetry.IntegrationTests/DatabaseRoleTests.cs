using Npgsql;
using Telemetry.Database;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.IntegrationTests;

public sealed class DatabaseFixture : IAsyncLifetime
{
    public TestDatabase Database { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync();
        await Database.ExecuteAsync("""
            INSERT INTO track_aggregates VALUES ('00000000-0000-0000-0000-000000000001', 1, 2, 1, 30, DEFAULT, DEFAULT, now());
            INSERT INTO question_aggregates VALUES ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000001', 1, 1, 30, DEFAULT, DEFAULT, now());
            INSERT INTO cycle_aggregates VALUES (1, 1, 2, 1, 30, DEFAULT, DEFAULT, now());
            """);
    }

    public Task DisposeAsync() => Database.DisposeAsync().AsTask();
}

public sealed class DatabaseRoleTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private const string InsufficientPrivilege = "42501";

    [Theory]
    [InlineData("SELECT count(*) FROM track_aggregates")]
    [InlineData("SELECT count(*) FROM question_aggregates")]
    [InlineData("SELECT count(*) FROM cycle_aggregates")]
    [InlineData("SELECT count(*) FROM cycles")]
    public async Task The_stats_role_can_read_the_aggregates(string sql) =>
        await RunAsAsync(DatabaseRoles.StatsApi, sql);

    [Theory]
    [InlineData("INSERT INTO track_aggregates VALUES ('00000000-0000-0000-0000-0000000000ff', 1, 1, 1, 1, DEFAULT, DEFAULT, now())")]
    [InlineData("UPDATE track_aggregates SET attempts_total = attempts_total + 1")]
    [InlineData("DELETE FROM track_aggregates")]
    [InlineData("UPDATE question_aggregates SET correct_total = 0")]
    [InlineData("DELETE FROM question_aggregates")]
    [InlineData("INSERT INTO cycle_aggregates VALUES (99, 1, 1, 1, 1, DEFAULT, DEFAULT, now())")]
    [InlineData("DELETE FROM cycle_aggregates")]
    [InlineData("TRUNCATE track_aggregates")]
    [InlineData("DELETE FROM cycles")]
    [InlineData("SELECT count(*) FROM answer_events")]
    [InlineData("SELECT count(*) FROM attempts")]
    [InlineData("SELECT count(*) FROM outbox_messages")]
    [InlineData("SELECT count(*) FROM audit_logs")]
    [InlineData("SELECT ensure_daily_partitions('answer_events', current_date, current_date)")]
    [InlineData("CREATE TABLE sneaky (id int)")]
    public async Task The_stats_role_cannot_write_anything_or_read_beyond_the_aggregates(string sql)
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => RunAsAsync(DatabaseRoles.StatsApi, sql));
        Assert.Equal(InsufficientPrivilege, error.SqlState);
        Assert.Equal("1/2/1", await fixture.Database.ScalarAsync<string>(
            "SELECT format('%s/%s/%s', attempts_total, answers_total, correct_total) FROM track_aggregates"));
    }

    [Theory]
    [InlineData(DatabaseRoles.EventIngestor, "UPDATE track_aggregates SET attempts_total = 0")]
    [InlineData(DatabaseRoles.EventIngestor, "DELETE FROM answer_events")]
    [InlineData(DatabaseRoles.EventIngestor, "SELECT count(*) FROM attempts")]
    [InlineData(DatabaseRoles.Aggregator, "DELETE FROM question_aggregates")]
    [InlineData(DatabaseRoles.Aggregator, "INSERT INTO answer_events (id) VALUES (gen_random_uuid())")]
    [InlineData(DatabaseRoles.Aggregator, "DELETE FROM processed_events")]
    [InlineData(DatabaseRoles.Aggregator, "SELECT * FROM drop_oldest_expired_partition('answer_events', current_date, '1 second')")]
    [InlineData(DatabaseRoles.EventIngestor, "SELECT * FROM drop_oldest_expired_partition('processed_events', current_date, '1 second')")]
    [InlineData(DatabaseRoles.EventIngestor, "SELECT ensure_daily_partitions('processed_events', current_date, current_date)")]
    [InlineData(DatabaseRoles.AttemptsApi, "SELECT count(*) FROM answer_events")]
    [InlineData(DatabaseRoles.AttemptsApi, "UPDATE track_aggregates SET attempts_total = 0")]
    public async Task Each_service_role_is_refused_outside_its_own_tables(string role, string sql)
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => RunAsAsync(role, sql));
        Assert.Equal(InsufficientPrivilege, error.SqlState);
    }

    private async Task RunAsAsync(string role, string sql)
    {
        await using var connection = new NpgsqlConnection(fixture.Database.ConnectionStringFor(role));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
