using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Npgsql;
using Telemetry.Contracts;
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
    : BrokerOutageTestsBase(pipeline, output), IClassFixture<PipelineFixture>
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
    : BrokerOutageTestsBase(pipeline, output), IClassFixture<PipelineFixture>
{
    [Fact]
    public async Task Killing_RabbitMQ_while_events_flow_loses_nothing_and_counts_nothing_twice()
    {
        await WaitUntilAllReadyAsync();
        var track = await CreateTrackAsync();
        var before = NewAttempts(300);
        var during = NewAttempts(50);

        await using (var outage = await BrokerOutage.BeginAsync(ClaimTimeout))
        {
            Log("claimed the broker");
            // The crash lands while the relay publishes and the consumers hold unacknowledged batches.
            var submitting = SubmitAllAsync(track, before, concurrency: 8);
            await Eventually.Until(() => OutboxRowsAsync(track.TrackId, sent: true), sent => sent >= 100, TimeSpan.FromSeconds(20), "the relay to be publishing");
            await outage.KillAsync();
            Log($"RabbitMQ killed with {await OutboxRowsAsync(track.TrackId, sent: true)} events relayed, {await AnswerEventCountAsync(track.TrackId)} ingested");

            Assert.Equal(before.Count, (await submitting).Count);
            var latencies = await SubmitAllAsync(track, during, concurrency: 4);
            Log($"{latencies.Count} submits accepted while RabbitMQ was dead, slowest {latencies.Max().TotalMilliseconds:0} ms");
            Assert.True(await OutboxRowsAsync(track.TrackId, sent: false) >= during.Count * Questions, "Events were relayed while RabbitMQ was dead.");

            await outage.StartAsync();
            Log("RabbitMQ started");
        }

        await AssertEveryEventOnceAsync(track, [.. before, .. during]);
    }
}

/// <summary>
/// What the outage tests share. Each test class has its own services (its own fixture): MassTransit's reconnect backoff
/// grows over a bus's lifetime and is never reset, so a second outage on the same services would wait longer.
/// </summary>
public abstract class BrokerOutageTestsBase(PipelineFixture pipeline, ITestOutputHelper output)
{
    protected const int Questions = 4;
    protected static readonly TimeSpan ClaimTimeout = TimeSpan.FromMinutes(5);

    /// <summary>MassTransit retries a lost receive transport at most 30 s apart (its RabbitMQ host's fixed policy).</summary>
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(40);

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    protected async Task AssertReadinessWhileTheBrokerIsDownAsync()
    {
        // Consumers go out of rotation; the attempts API stays in (its outbox holds the events) and says why it is degraded.
        await WaitForReadinessAsync("event-ingestor", pipeline.Ingestor.CreateClient(), HttpStatusCode.ServiceUnavailable);
        await WaitForReadinessAsync("aggregator", pipeline.Aggregator.CreateClient(), HttpStatusCode.ServiceUnavailable);
        var (status, readiness) = await Readiness.ReadyAsync(pipeline.Attempts.CreateClient());
        Assert.Equal(HttpStatusCode.OK, status);
        Readiness.AssertBrokerUnreachable(readiness, "Degraded");
    }

    protected async Task AssertEveryEventOnceAsync(Track track, IReadOnlyList<Attempt> attempts)
    {
        var expected = attempts.Count * Questions;
        await Eventually.Until(() => OutboxRowsAsync(track.TrackId, sent: false), unsent => unsent == 0, RecoveryTimeout, "the outbox to drain");
        Log("outbox drained");
        await Eventually.Until(() => AnswerEventCountAsync(track.TrackId), count => count >= expected, RecoveryTimeout, $"{expected} answer events");
        Log("every event ingested");

        // Duplicates would show: the ids are compared as a list, not as a set.
        var expectedIds = attempts.SelectMany(a => track.QuestionIds.Select(q => AnswerEventId.For(a.AttemptId, q))).Order().ToList();
        Assert.Equal(expectedIds, (await AnswerEventIdsAsync(track.TrackId)).Order().ToList());

        // Each attempt counted once in the aggregates, each answer once: (attempts, answers, correct).
        var totals = await Eventually.Until(
            () => TrackTotalsAsync(track.TrackId), t => t.Answers >= expected, RecoveryTimeout, "the aggregator to count every answer");
        Log("every event aggregated");
        Assert.Equal(((long)attempts.Count, (long)expected, (long)attempts.Sum(a => a.Correct)), totals);

        await WaitUntilAllReadyAsync();
        await pipeline.WaitUntilDrainedAsync(RecoveryTimeout);
        Assert.Equal(expected, await AnswerEventCountAsync(track.TrackId));
    }

    protected async Task WaitUntilAllReadyAsync()
    {
        await WaitForReadinessAsync("attempts-api", pipeline.Attempts.CreateClient(), HttpStatusCode.OK, "Healthy");
        await WaitForReadinessAsync("event-ingestor", pipeline.Ingestor.CreateClient(), HttpStatusCode.OK, "Healthy");
        await WaitForReadinessAsync("aggregator", pipeline.Aggregator.CreateClient(), HttpStatusCode.OK, "Healthy");
    }

    private async Task WaitForReadinessAsync(string service, HttpClient client, HttpStatusCode status, string? overall = null)
    {
        var ready = await Eventually.Until(
            async () =>
            {
                var response = await client.GetAsync("/health/ready");
                return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            },
            ready => ready.StatusCode == status && (overall is null || ready.Body.Contains($"\"status\":\"{overall}\"", StringComparison.Ordinal)),
            RecoveryTimeout,
            $"{service} /health/ready to answer {(int)status} {overall}");
        Log($"{service} ready: {(int)ready.StatusCode} {ready.Body}");
    }

    protected static List<Attempt> NewAttempts(int count) =>
        Enumerable.Range(0, count).Select(i => new Attempt(Guid.NewGuid(), Correct: i % (Questions + 1))).ToList();

    /// <summary>A track whose question i has the correct answer "answer-i".</summary>
    protected async Task<Track> CreateTrackAsync()
    {
        var track = new Track(Guid.NewGuid(), Enumerable.Range(0, Questions).Select(_ => Guid.NewGuid()).ToArray());
        using var admin = pipeline.AdminClient();
        var response = await admin.PutAsJsonAsync($"/api/admin/tracks/{track.TrackId}", new
        {
            title = "Outage",
            passThresholdPct = 60,
            questions = track.QuestionIds.Select((id, i) => new { questionId = id, correctAnswer = $"answer-{i}" }),
        });
        response.EnsureSuccessStatusCode();
        return track;
    }

    /// <summary>
    /// Submits every attempt (its first <see cref="Attempt.Correct"/> answers right), each as its own wallet so the
    /// per-wallet rate limit stays out of the way; asserts 202 and returns each submit's latency.
    /// </summary>
    protected async Task<IReadOnlyList<TimeSpan>> SubmitAllAsync(Track track, IReadOnlyList<Attempt> attempts, int concurrency)
    {
        var queue = new ConcurrentQueue<Attempt>(attempts);
        var latencies = new ConcurrentBag<TimeSpan>();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (queue.TryDequeue(out var attempt))
            {
                using var client = pipeline.LearnerClient("0x" + attempt.AttemptId.ToString("N"));
                var body = new
                {
                    attemptId = attempt.AttemptId,
                    trackId = track.TrackId,
                    durationSec = 90,
                    answers = track.QuestionIds.Select((id, i) => new { questionId = id, selectedAnswer = i < attempt.Correct ? $"answer-{i}" : "wrong" }),
                };
                var watch = Stopwatch.StartNew();
                var response = await client.PostAsJsonAsync("/api/train-attempts/submit", body);
                latencies.Add(watch.Elapsed);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }
        }));
        return latencies.ToList();
    }

    protected void Log(string message) => output.WriteLine($"{_clock.Elapsed.TotalSeconds,6:0.0}s {message}");

    protected Task<long> AnswerEventCountAsync(Guid trackId) =>
        pipeline.Database.ScalarAsync<long>("SELECT count(*) FROM answer_events WHERE track_id = $1", trackId);

    protected Task<long> OutboxRowsAsync(Guid trackId, bool sent) =>
        pipeline.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM outbox_messages WHERE sent_at IS {(sent ? "NOT " : "")}NULL AND payload->>'trackId' = $1", trackId.ToString());

    private async Task<List<Guid>> AnswerEventIdsAsync(Guid trackId)
    {
        await using var connection = new NpgsqlConnection(pipeline.Database.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id FROM answer_events WHERE track_id = $1", connection) { Parameters = { new() { Value = trackId } } };
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<Guid>();
        while (await reader.ReadAsync())
            ids.Add(reader.GetGuid(0));
        return ids;
    }

    /// <summary>The track's aggregate (attempts, answers, correct answers); zeros before the aggregator wrote it.</summary>
    private async Task<(long Attempts, long Answers, long Correct)> TrackTotalsAsync(Guid trackId)
    {
        await using var connection = new NpgsqlConnection(pipeline.Database.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT attempts_total, answers_total, correct_total FROM track_aggregates WHERE track_id = $1", connection) { Parameters = { new() { Value = trackId } } };
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)) : (0, 0, 0);
    }

    protected sealed record Attempt(Guid AttemptId, int Correct);

    protected sealed record Track(Guid TrackId, Guid[] QuestionIds);
}
