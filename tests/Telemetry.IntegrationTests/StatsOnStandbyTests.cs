using System.Net;
using System.Net.Http.Json;
using Npgsql;
using Telemetry.Database;
using Telemetry.StatsApi.Stats;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.IntegrationTests;

/// <summary>
/// The pipeline writes to the primary; a second stats API reads the same database from a hot standby (streaming
/// replication), as a dashboard's read replica would.
/// </summary>
public sealed class StatsOnStandbyTests(StatsOnStandbyTests.StandbyFixture fixture) : IClassFixture<StatsOnStandbyTests.StandbyFixture>
{
    private PipelineFixture Pipeline => fixture;

    [Fact]
    public async Task The_stats_api_on_a_standby_is_ready_and_serves_what_the_primary_serves_and_its_lag_shows_as_older_data()
    {
        using var standby = fixture.StandbyStats.CreateClient();
        standby.DefaultRequestHeaders.Add("X-Api-Key", PipelineFixture.DashboardKey);
        Assert.Equal(HttpStatusCode.OK, (await standby.GetAsync("/health/ready")).StatusCode);
        await using (var replica = new NpgsqlConnection(fixture.StandbyAdmin))
        {
            await replica.OpenAsync();
            await using var write = new NpgsqlCommand("CREATE TABLE not_here (id int)", replica);
            Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, Assert.Throws<PostgresException>(() => write.ExecuteNonQuery()).SqlState);
        }

        var track = Guid.NewGuid();
        await Pipeline.Publisher.PublishAllAsync(SampleEvents.Attempt(track, [(Guid.NewGuid(), true), (Guid.NewGuid(), false)]));
        var (primary, primaryAsOf) = await Eventually.Until(() => TracksAsync(Pipeline.StatsClient()), t => t.Tracks.Any(s => s.TrackId == track),
            TimeSpan.FromSeconds(30), "the primary's stats API to show the track");
        await Eventually.Until(() => TracksAsync(standby), t => t.AsOf == primaryAsOf, TimeSpan.FromSeconds(30), "the standby to replay up to the same flush");
        Assert.Equal(primary, (await TracksAsync(standby)).Tracks);

        // Replay paused: the standby is behind, and it says so with an older X-Data-As-Of, never with other numbers.
        await fixture.StandbyExecuteAsync("SELECT pg_wal_replay_pause()");
        try
        {
            await Pipeline.Publisher.PublishAllAsync(SampleEvents.Attempt(track, [(Guid.NewGuid(), true)]));
            await Eventually.Until(() => TracksAsync(Pipeline.StatsClient()), t => t.Tracks.Single(s => s.TrackId == track).AttemptsTotal == 2,
                TimeSpan.FromSeconds(30), "the primary to count the second attempt");
            var behind = await TracksAsync(standby);
            Assert.Equal(primaryAsOf, behind.AsOf);
            Assert.Equal(primary, behind.Tracks);
        }
        finally
        {
            await fixture.StandbyExecuteAsync("SELECT pg_wal_replay_resume()");
        }
        var caughtUp = await Eventually.Until(() => TracksAsync(standby), t => t.Tracks.Single(s => s.TrackId == track).AttemptsTotal == 2,
            TimeSpan.FromSeconds(30), "the standby to catch up");
        Assert.True(caughtUp.AsOf > primaryAsOf);
        Assert.Equal((await TracksAsync(Pipeline.StatsClient())).Tracks, caughtUp.Tracks);
    }

    private static async Task<(List<TrackStats> Tracks, DateTimeOffset? AsOf)> TracksAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/stats/tracks");
        response.EnsureSuccessStatusCode();
        var asOf = response.Headers.TryGetValues("X-Data-As-Of", out var values) ? DateTimeOffset.Parse(values.Single()) : (DateTimeOffset?)null;
        return ((await response.Content.ReadFromJsonAsync<List<TrackStats>>())!, asOf);
    }

    public sealed class StandbyFixture : PipelineFixture
    {
        public string StandbyAdmin { get; private set; } = null!;
        public ServiceHost<StatsApi.Program> StandbyStats { get; private set; } = null!;

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            StandbyAdmin = OnStandby(Database.AdminConnectionString, TestServers.PostgresStandbyAdmin);
            StandbyStats = new ServiceHost<StatsApi.Program>(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Telemetry"] = OnStandby(Database.ConnectionStringFor(DatabaseRoles.StatsApi), TestServers.PostgresStandbyAdmin),
                ["StatsApiOptions:ResponseCacheDuration"] = "00:00:00",
            });
            _ = StandbyStats.Server;
        }

        public override async Task DisposeAsync()
        {
            await StandbyStats.DisposeAsync();
            await base.DisposeAsync();
        }

        public async Task StandbyExecuteAsync(string sql)
        {
            await using var connection = new NpgsqlConnection(StandbyAdmin);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }

        /// <summary>The same database, role and password, on the standby's host and port.</summary>
        private static string OnStandby(string connectionString, string standbyServer)
        {
            var standby = new NpgsqlConnectionStringBuilder(standbyServer);
            return new NpgsqlConnectionStringBuilder(connectionString) { Host = standby.Host, Port = standby.Port }.ConnectionString;
        }
    }
}
