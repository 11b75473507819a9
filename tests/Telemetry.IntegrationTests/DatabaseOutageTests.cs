using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Telemetry.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Telemetry.IntegrationTests;

/// <summary>
/// Tests that take PostgreSQL down. They use a server of their own (<see cref="OutagePipelineFixture"/>), so they run
/// beside the other tests, one after another within this collection.
/// </summary>
[CollectionDefinition(nameof(DatabaseOutageCollection))]
public sealed class DatabaseOutageCollection;

[Collection(nameof(DatabaseOutageCollection))]
public sealed class DatabaseOutageTests(OutagePipelineFixture pipeline, ITestOutputHelper output)
    : OutageTestsBase(pipeline, output), IClassFixture<OutagePipelineFixture>
{
    /// <summary>Longer than any retry window a consumer ever had (MassTransit's retry gave up after about 17 s).</summary>
    private static readonly TimeSpan OutageLength = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task PostgreSQL_down_for_a_minute_twice_under_load_loses_nothing_counts_nothing_twice_and_dead_letters_only_bad_input()
    {
        await WaitUntilAllReadyAsync();
        var track = await CreateTrackAsync();
        var load = StartLoad(track, clients: 6, pause: TimeSpan.FromMilliseconds(100));
        await Eventually.Until(() => AnswerEventCountAsync(track.TrackId), count => count >= 200, TimeSpan.FromSeconds(60), "events to be flowing");
        SubmitLoad[] bursts;

        await using (var outage = new DatabaseOutage())
        {
            // A crash first: the consumers hold batches, the relay holds a claim, submits are mid-transaction.
            var burst = await BurstAsync(track, TimeSpan.FromSeconds(1));
            Log($"killing PostgreSQL; {await DescribeInFlightAsync(track.TrackId, load.Accepted + burst.Accepted)}");
            var down = Stopwatch.StartNew();
            await outage.KillAsync();
            burst.StopStarting();
            await AssertReadinessWhileTheDatabaseIsDownAsync();
            await AssertSubmitAnswers503WithRetryAfterAsync(track);
            // Bad input that arrives meanwhile is still refused with its reason once the database is back.
            var badEvent = SampleEvents.Attempt(track.TrackId, [(Guid.NewGuid(), true)])[0] with { ScoreBasisPoints = 20_000 };
            await Pipeline.Publisher.PublishAsync(badEvent);
            await Task.Delay(OutageLength - down.Elapsed);
            await outage.StartAsync();
            Log($"PostgreSQL back after {down.Elapsed.TotalSeconds:0} s; {load.Unavailable} submits answered 503 so far");

            await Task.Delay(TimeSpan.FromSeconds(15));
            var burst2 = await BurstAsync(track, TimeSpan.FromSeconds(1));
            Log($"stopping PostgreSQL (fast shutdown); {await DescribeInFlightAsync(track.TrackId, load.Accepted + burst.Accepted + burst2.Accepted)}");
            down.Restart();
            await outage.StopAsync();
            burst2.StopStarting();
            await AssertReadinessWhileTheDatabaseIsDownAsync();
            await Task.Delay(OutageLength - down.Elapsed);
            await outage.StartAsync();
            Log($"PostgreSQL back after {down.Elapsed.TotalSeconds:0} s");
            bursts = [burst, burst2];
        }

        var back = Stopwatch.StartNew();
        var attempts = await StopAllAsync([load, .. bursts]);
        Log($"{attempts.Count} attempts accepted, {load.Unavailable + bursts.Sum(b => b.Unavailable)} submits answered 503 and were sent again");
        Assert.True(load.Unavailable + bursts.Sum(b => b.Unavailable) > 0, "No submit was answered 503 while PostgreSQL was down.");
        await AssertEveryEventOnceAsync(track, attempts);
        Log($"aggregates exact {back.Elapsed.TotalSeconds:0.0} s after PostgreSQL returned");
        await AssertDeadLettersAreOnlyAsync("scoreBasisPoints");
    }

    private async Task AssertSubmitAnswers503WithRetryAfterAsync(Track track)
    {
        using var client = Pipeline.LearnerClient("0xoutage");
        var response = await client.PostAsJsonAsync("/api/train-attempts/submit", new
        {
            attemptId = Guid.NewGuid(),
            trackId = track.TrackId,
            durationSec = 90,
            answers = track.QuestionIds.Select(id => new { questionId = id, selectedAnswer = "wrong" }),
        });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);

        using var admin = Pipeline.AdminClient();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await admin.GetAsync("/api/admin/tracks")).StatusCode);
    }
}
