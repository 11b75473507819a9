using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Telemetry.StatsApi.Stats;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.IntegrationTests;

/// <summary>The whole path: HTTP submit → outbox → RabbitMQ → answer_events and aggregates → stats API.</summary>
public sealed class EndToEndTests(PipelineFixture pipeline) : IClassFixture<PipelineFixture>
{
    private static readonly ConcurrentBag<Activity> Activities = [];
    private static readonly ActivityListener Listener = StartListener();

    // Forces the listener to start before the first test sends anything.
    static EndToEndTests() => GC.KeepAlive(Listener);

    [Fact]
    public async Task Submitted_attempts_reach_answer_events_once_per_answer_and_the_stats_api_exactly()
    {
        var track = Guid.NewGuid();
        var questions = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid()).ToArray();
        await PutAsync($"/api/admin/tracks/{track}", new
        {
            title = "End to end",
            passThresholdPct = 50,
            questions = questions.Select((q, i) => new { questionId = q, correctAnswer = $"answer-{i}" }),
        });
        await PutAsync("/api/admin/cycles/1", new { startsAt = DateTimeOffset.UtcNow.Date.AddDays(-1), endsAt = DateTimeOffset.UtcNow.Date.AddDays(2) });
        var cycleBefore = await CurrentCycleAsync();

        // (wallet, answered questions, how many of them right, duration)
        var attempts = new[] { ("0xaa01", 4, 4, 120), ("0xaa02", 4, 2, 80), ("0xaa03", 3, 1, 60), ("0xaa01", 2, 0, 40) };
        var bodies = attempts.Select(a => Body(track, questions, a.Item2, a.Item3, a.Item4)).ToList();
        for (var i = 0; i < attempts.Length; i++)
        {
            var response = await pipeline.LearnerClient(attempts[i].Item1).PostAsJsonAsync("/api/train-attempts/submit", bodies[i]);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        // A client retry of the first attempt: the same answer again, no new events.
        var retry = await pipeline.LearnerClient("0xaa01").PostAsJsonAsync("/api/train-attempts/submit", bodies[0]);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);

        var stats = await Eventually.Until(
            async () => (await pipeline.GetListAsync<TrackStats>("/api/stats/tracks")).SingleOrDefault(t => t.TrackId == track),
            s => s?.AnswersTotal == 13,
            TimeSpan.FromSeconds(60), "the stats API to show all 13 answers");
        await pipeline.WaitUntilDrainedAsync();

        Assert.Equal(13, await pipeline.Database.ScalarAsync<long>("SELECT count(*) FROM answer_events WHERE track_id = $1", track));
        Assert.Equal(13, await pipeline.Database.ScalarAsync<long>("SELECT count(DISTINCT id) FROM answer_events WHERE track_id = $1", track));
        stats = (await pipeline.GetListAsync<TrackStats>("/api/stats/tracks")).Single(t => t.TrackId == track);
        Assert.Equal((4L, 13L, 7L), (stats.AttemptsTotal, stats.AnswersTotal, stats.CorrectTotal));
        Assert.Equal(53.85f, stats.AccuracyPct);
        Assert.Equal(75f, stats.AvgDurationSec);

        var cycleAfter = await CurrentCycleAsync();
        Assert.Equal(1, cycleAfter?.CycleNumber);
        Assert.Equal((4L, 13L, 7L), (cycleAfter!.AttemptsTotal - (cycleBefore?.AttemptsTotal ?? 0),
            cycleAfter.AnswersTotal - (cycleBefore?.AnswersTotal ?? 0), cycleAfter.CorrectTotal - (cycleBefore?.CorrectTotal ?? 0)));

        var perQuestion = await pipeline.GetListAsync<QuestionStats>($"/api/stats/questions?trackId={track}");
        var first = perQuestion.Single(q => q.QuestionId == questions[0]);
        Assert.Equal((4L, 3L, 75f, 75f), (first.AttemptsTotal, first.CorrectTotal, first.AccuracyPct, first.AvgDurationSec));
        var last = perQuestion.Single(q => q.QuestionId == questions[3]);
        Assert.Equal((2L, 1L, 50f, 100f), (last.AttemptsTotal, last.CorrectTotal, last.AccuracyPct, last.AvgDurationSec));
    }

    [Fact]
    public async Task One_trace_follows_a_submit_from_the_http_request_through_the_broker_into_both_consumers()
    {
        var track = Guid.NewGuid();
        var question = Guid.NewGuid();
        await PutAsync($"/api/admin/tracks/{track}", new { title = "Traced", passThresholdPct = 50, questions = new[] { new { questionId = question, correctAnswer = "a" } } });
        var traceId = ActivityTraceId.CreateRandom();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/train-attempts/submit")
        {
            Content = JsonContent.Create(new { attemptId = Guid.NewGuid(), trackId = track, durationSec = 30, answers = new[] { new { questionId = question, selectedAnswer = "a" } } }),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");

        Assert.Equal(HttpStatusCode.Accepted, (await pipeline.LearnerClient("0xtrace").SendAsync(request)).StatusCode);

        // MassTransit names consumer spans after the queue: "event-ingestor receive", "aggregator process", …
        await Eventually.Until(
            () => Task.FromResult(Activities.Where(a => a.TraceId == traceId && a.Source.Name == "MassTransit" && a.Kind == ActivityKind.Consumer)
                .Select(a => a.DisplayName.Split(' ')[0]).ToHashSet()),
            queues => queues.IsSupersetOf(["event-ingestor", "aggregator"]),
            TimeSpan.FromSeconds(30), "consumer spans of both queues in the submit's trace");
        Assert.Contains(Activities, a => a.TraceId == traceId && a.OperationName == "outbox publish");
    }

    private async Task<CycleStats?> CurrentCycleAsync()
    {
        var response = await pipeline.StatsClient().GetAsync("/api/stats/cycle/current");
        return response.StatusCode == HttpStatusCode.NotFound ? null : await response.Content.ReadFromJsonAsync<CycleStats>();
    }

    private async Task PutAsync(string path, object body)
    {
        var response = await pipeline.AdminClient().PutAsJsonAsync(path, body);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static object Body(Guid track, Guid[] questions, int answered, int right, int durationSec) => new
    {
        attemptId = Guid.NewGuid(),
        trackId = track,
        durationSec,
        answers = questions.Take(answered).Select((q, i) => new { questionId = q, selectedAnswer = i < right ? $"answer-{i}" : "wrong" }),
    };

    private static ActivityListener StartListener()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "MassTransit" or "Microsoft.AspNetCore" || source.Name.StartsWith("Telemetry.", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Activities.Add,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
