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
/// What the outage tests share. Each test class has its own services (its own fixture): MassTransit's reconnect backoff
/// grows over a bus's lifetime and is never reset, so a second outage on the same services would wait longer.
/// </summary>
public abstract class OutageTestsBase(PipelineFixture pipeline, ITestOutputHelper output)
{
    protected const int Questions = 4;
    protected static readonly TimeSpan ClaimTimeout = TimeSpan.FromMinutes(5);
    protected static readonly string[] ErrorQueues = ["event-ingestor_error", "aggregator_error"];

    /// <summary>
    /// Above MassTransit's reconnect backoff (up to ~37 s with its jitter), the outbox relay's longest backoff (30 s) and
    /// the consumers' outage backoff (5 s), plus the backlog the load left behind.
    /// </summary>
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(90);

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    protected PipelineFixture Pipeline => pipeline;

    protected async Task AssertReadinessWhileTheBrokerIsDownAsync()
    {
        // Consumers go out of rotation; the attempts API stays in (its outbox holds the events) and says why it is degraded.
        await WaitForReadinessAsync("event-ingestor", pipeline.Ingestor.CreateClient(), HttpStatusCode.ServiceUnavailable);
        await WaitForReadinessAsync("aggregator", pipeline.Aggregator.CreateClient(), HttpStatusCode.ServiceUnavailable);
        var (status, readiness) = await Readiness.ReadyAsync(pipeline.Attempts.CreateClient());
        Assert.Equal(HttpStatusCode.OK, status);
        Readiness.AssertBrokerUnreachable(readiness, "Degraded");
    }

    /// <summary>Every service that needs PostgreSQL is out of rotation and names it.</summary>
    protected async Task AssertReadinessWhileTheDatabaseIsDownAsync()
    {
        foreach (var (service, client) in new[]
                 {
                     ("attempts-api", pipeline.Attempts.CreateClient()), ("event-ingestor", pipeline.Ingestor.CreateClient()),
                     ("aggregator", pipeline.Aggregator.CreateClient()),
                 })
        {
            await WaitForReadinessAsync(service, client, HttpStatusCode.ServiceUnavailable);
            var (_, report) = await Readiness.ReadyAsync(client);
            Assert.Equal("Unhealthy", Assert.Single(report.Checks, c => c.Name == "postgres").Status);
        }
    }

    protected async Task AssertEveryEventOnceAsync(Track track, IReadOnlyCollection<Attempt> attempts)
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
        Assert.Equal(((long)attempts.Count, (long)expected, (long)attempts.Sum(a => a.Correct)), await TrackTotalsAsync(track.TrackId));
    }

    /// <summary>The error queues hold exactly what the test sent as bad input (an outage never dead-letters anything).</summary>
    protected async Task AssertDeadLettersAreOnlyAsync(params string[] expectedReasons)
    {
        foreach (var queue in ErrorQueues)
        {
            var reasons = await pipeline.Broker.PeekDeadLettersAsync(queue);
            Log($"{queue}: {reasons.Count} dead letters {string.Join(" | ", reasons)}");
            Assert.Equal(expectedReasons.Length, reasons.Count);
            foreach (var expected in expectedReasons)
                Assert.Contains(reasons, r => r.Contains(expected, StringComparison.Ordinal));
        }
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
        Enumerable.Range(0, count).Select(_ => new Attempt(Guid.NewGuid(), Correct: Random.Shared.Next(Questions + 1))).ToList();

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
                var watch = Stopwatch.StartNew();
                var response = await SubmitAsync(track, attempt);
                latencies.Add(watch.Elapsed);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }
        }));
        return latencies.ToList();
    }

    /// <summary>
    /// Learners submitting new attempts until stopped, each client one after another, as a frontend would: an attempt
    /// answered 503 (which must carry Retry-After) is sent again after that wait, same id and body, until it is accepted.
    /// </summary>
    protected SubmitLoad StartLoad(Track track, int clients, TimeSpan pause) => new(this, track, clients, pause);

    /// <summary>
    /// A burst of clients submitting without pause for <paramref name="length"/> on top of the steady load, so that
    /// the fault that follows at once finds events unsent in the outbox, in the queues and in the consumers' batches.
    /// Call <see cref="SubmitLoad.StopStarting"/> once the fault has hit.
    /// </summary>
    protected async Task<SubmitLoad> BurstAsync(Track track, TimeSpan length)
    {
        var burst = StartLoad(track, clients: 16, pause: TimeSpan.Zero);
        await Task.Delay(length);
        return burst;
    }

    /// <summary>Stops every load and returns every attempt any of them got accepted.</summary>
    protected static async Task<IReadOnlyCollection<Attempt>> StopAllAsync(IEnumerable<SubmitLoad> loads)
    {
        var accepted = new List<Attempt>();
        foreach (var load in loads)
            accepted.AddRange(await load.StopAsync());
        return accepted;
    }

    private async Task<HttpResponseMessage> SubmitAsync(Track track, Attempt attempt)
    {
        using var client = pipeline.LearnerClient("0x" + attempt.AttemptId.ToString("N"));
        var body = new
        {
            attemptId = attempt.AttemptId,
            trackId = track.TrackId,
            durationSec = 90,
            answers = track.QuestionIds.Select((id, i) => new { questionId = id, selectedAnswer = i < attempt.Correct ? $"answer-{i}" : "wrong" }),
        };
        return await client.PostAsJsonAsync("/api/train-attempts/submit", body);
    }

    protected void Log(string message) => output.WriteLine($"{_clock.Elapsed.TotalSeconds,6:0.0}s {message}");

    protected Task<long> AnswerEventCountAsync(Guid trackId) =>
        pipeline.Database.ScalarAsync<long>("SELECT count(*) FROM answer_events WHERE track_id = $1", trackId);

    protected Task<long> OutboxRowsAsync(Guid trackId, bool sent) =>
        pipeline.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM outbox_messages WHERE sent_at IS {(sent ? "NOT " : "")}NULL AND payload->>'trackId' = $1", trackId.ToString());

    /// <summary>Where the track's accepted events are right now: unsent in the outbox, in the queues, stored, aggregated.</summary>
    protected async Task<string> DescribeInFlightAsync(Guid trackId, int accepted)
    {
        var unsent = await OutboxRowsAsync(trackId, sent: false);
        var ingested = await AnswerEventCountAsync(trackId);
        var aggregated = (await TrackTotalsAsync(trackId)).Answers;
        var ingestorQueue = await pipeline.Broker.QueueDepthAsync("event-ingestor");
        var aggregatorQueue = await pipeline.Broker.QueueDepthAsync("aggregator");
        return $"{accepted * Questions} events accepted: {unsent} unsent in the outbox; event-ingestor queue {ingestorQueue.Ready} ready + {ingestorQueue.Unacked} unacked, "
               + $"{accepted * Questions - ingested} not yet in answer_events; aggregator queue {aggregatorQueue.Ready} ready + {aggregatorQueue.Unacked} unacked, "
               + $"{accepted * Questions - aggregated} not yet aggregated";
    }

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
    protected async Task<(long Attempts, long Answers, long Correct)> TrackTotalsAsync(Guid trackId)
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

    protected sealed class SubmitLoad
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentBag<Attempt> _accepted = [];
        private readonly Task _clients;
        private int _unavailable;

        public SubmitLoad(OutageTestsBase test, Track track, int clients, TimeSpan pause) =>
            _clients = Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    var attempt = NewAttempts(1)[0];
                    while (true)
                    {
                        var response = await test.SubmitAsync(track, attempt);
                        if (response.StatusCode == HttpStatusCode.Accepted)
                            break;
                        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                        var retryAfter = response.Headers.RetryAfter?.Delta;
                        Assert.NotNull(retryAfter);
                        Interlocked.Increment(ref _unavailable);
                        await Task.Delay(retryAfter.Value);
                    }
                    _accepted.Add(attempt);
                    await Task.Delay(pause);
                }
            })));

        public int Accepted => _accepted.Count;

        /// <summary>Submits answered 503 (and sent again) so far.</summary>
        public int Unavailable => _unavailable;

        /// <summary>Stops starting new attempts; those started are still sent until accepted.</summary>
        public void StopStarting() => _stop.Cancel();

        /// <summary>Stops starting new attempts, waits until every started one is accepted, and returns them all.</summary>
        public async Task<IReadOnlyCollection<Attempt>> StopAsync()
        {
            await _stop.CancelAsync();
            await _clients;
            return _accepted.ToArray();
        }
    }
}
