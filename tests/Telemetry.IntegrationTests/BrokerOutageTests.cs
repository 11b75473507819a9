using System.Diagnostics;
using System.Net;
using Telemetry.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Telemetry.IntegrationTests;

/// <summary>
/// Tests that take the run's one RabbitMQ node down. xunit runs this collection after every parallel one, alone, and
/// <see cref="BrokerOutage"/> also waits for the test processes of other assemblies to let go of the broker.
/// </summary>
[CollectionDefinition(nameof(BrokerOutageCollection), DisableParallelization = true)]
public sealed class BrokerOutageCollection;

[Collection(nameof(BrokerOutageCollection))]
public sealed class BrokerStopTests(PipelineFixture pipeline, ITestOutputHelper output)
    : OutageTestsBase(pipeline, output), IClassFixture<PipelineFixture>
{
    /// <summary>Far below anything that waits on RabbitMQ (a publish gives up after 5 s); the broker stays down all along.</summary>
    private static readonly TimeSpan SubmitLatencyBound = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Attempts_submitted_while_RabbitMQ_is_stopped_are_accepted_at_once_and_land_in_answer_events_exactly_once_after_it_returns()
    {
        await WaitUntilAllReadyAsync();
        var track = await CreateTrackAsync();
        var attempts = NewAttempts(40);

        await using (var outage = await BrokerOutage.BeginAsync(ClaimTimeout))
        {
            Log("claimed the broker");
            await outage.StopAsync();
            Log("RabbitMQ stopped");
            await AssertReadinessWhileTheBrokerIsDownAsync();

            var latencies = await SubmitAllAsync(track, attempts, concurrency: 4);
            Log($"{latencies.Count} submits accepted, slowest {latencies.Max().TotalMilliseconds:0} ms");
            Assert.All(latencies, latency => Assert.True(latency < SubmitLatencyBound, $"A submit took {latency.TotalMilliseconds:0} ms while RabbitMQ was down."));
            Assert.Equal(attempts.Count * Questions, await OutboxRowsAsync(track.TrackId, sent: false));
            Assert.Equal(0, await AnswerEventCountAsync(track.TrackId));

            await outage.StartAsync();
            Log("RabbitMQ started");
        }

        await AssertEveryEventOnceAsync(track, attempts);
    }
}

[Collection(nameof(BrokerOutageCollection))]
public sealed class BrokerKillTests(PipelineFixture pipeline, ITestOutputHelper output)
    : OutageTestsBase(pipeline, output), IClassFixture<PipelineFixture>
{
    [Fact]
    public async Task Killing_RabbitMQ_for_a_minute_while_events_flow_loses_nothing_counts_nothing_twice_and_dead_letters_nothing()
    {
        await WaitUntilAllReadyAsync();
        var track = await CreateTrackAsync();
        var load = StartLoad(track, clients: 6, pause: TimeSpan.FromMilliseconds(100));
        SubmitLoad burst;

        await using (var outage = await BrokerOutage.BeginAsync(ClaimTimeout))
        {
            Log("claimed the broker");
            // The crash lands while the relay publishes and the consumers hold unacknowledged batches.
            await Eventually.Until(() => AnswerEventCountAsync(track.TrackId), count => count >= 200, TimeSpan.FromSeconds(60), "events to be flowing");
            burst = await BurstAsync(track, TimeSpan.FromSeconds(1));
            Log($"killing RabbitMQ; {await DescribeInFlightAsync(track.TrackId, load.Accepted + burst.Accepted)}");
            var down = Stopwatch.StartNew();
            await outage.KillAsync();
            burst.StopStarting();
            await AssertReadinessWhileTheBrokerIsDownAsync();
            var acceptedWhenKilled = load.Accepted;
            await Task.Delay(TimeSpan.FromSeconds(60) - down.Elapsed);
            Assert.True(load.Accepted > acceptedWhenKilled, "No submit was accepted while RabbitMQ was dead.");
            Assert.Equal(0, load.Unavailable);
            Assert.True(await OutboxRowsAsync(track.TrackId, sent: false) > 0, "Events were relayed while RabbitMQ was dead.");
            await outage.StartAsync();
            Log($"RabbitMQ started after {down.Elapsed.TotalSeconds:0} s; {load.Accepted - acceptedWhenKilled} attempts accepted meanwhile");
        }

        var attempts = await StopAllAsync([load, burst]);
        await AssertEveryEventOnceAsync(track, attempts);
        await AssertDeadLettersAreOnlyAsync();
    }
}

/// <summary>The worst case: the database and the broker crash together and stay away for a minute.</summary>
[Collection(nameof(BrokerOutageCollection))]
public sealed class BrokerAndDatabaseKillTests(OutagePipelineFixture pipeline, ITestOutputHelper output)
    : OutageTestsBase(pipeline, output), IClassFixture<OutagePipelineFixture>
{
    [Fact]
    public async Task Killing_RabbitMQ_and_PostgreSQL_together_for_a_minute_loses_nothing_counts_nothing_twice_and_dead_letters_nothing()
    {
        await WaitUntilAllReadyAsync();
        var track = await CreateTrackAsync();
        var load = StartLoad(track, clients: 6, pause: TimeSpan.FromMilliseconds(100));
        SubmitLoad burst;

        await using (var broker = await BrokerOutage.BeginAsync(ClaimTimeout))
        await using (var database = new DatabaseOutage())
        {
            await Eventually.Until(() => AnswerEventCountAsync(track.TrackId), count => count >= 200, TimeSpan.FromSeconds(60), "events to be flowing");
            burst = await BurstAsync(track, TimeSpan.FromSeconds(1));
            Log($"killing RabbitMQ and PostgreSQL; {await DescribeInFlightAsync(track.TrackId, load.Accepted + burst.Accepted)}");
            var down = Stopwatch.StartNew();
            await Task.WhenAll(broker.KillAsync(), database.KillAsync());
            burst.StopStarting();
            await AssertReadinessWhileTheDatabaseIsDownAsync();
            await Task.Delay(TimeSpan.FromSeconds(60) - down.Elapsed);
            await Task.WhenAll(broker.StartAsync(), database.StartAsync());
            Log($"both back after {down.Elapsed.TotalSeconds:0} s; {load.Unavailable} submits answered 503 meanwhile");
        }

        var back = Stopwatch.StartNew();
        var attempts = await StopAllAsync([load, burst]);
        Assert.True(load.Unavailable + burst.Unavailable > 0, "No submit was answered 503 while PostgreSQL was down.");
        await AssertEveryEventOnceAsync(track, attempts);
        Log($"aggregates exact {back.Elapsed.TotalSeconds:0.0} s after both returned");
        await AssertDeadLettersAreOnlyAsync();
    }
}
