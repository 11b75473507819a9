using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.IntegrationTests;

/// <summary>
/// /metrics, scraped as Prometheus would, after traffic through the whole pipeline. Other fixtures' hosts run in this
/// process at the same time: the exact counts also show each host reports only its own meters.
/// </summary>
public sealed class MetricsTests(PipelineFixture pipeline) : IClassFixture<PipelineFixture>
{
    [Fact]
    public async Task Every_service_serves_the_pipelines_own_metrics_and_the_frameworks_on_metrics()
    {
        var track = Guid.NewGuid();
        var question = Guid.NewGuid();
        var put = await pipeline.AdminClient().PutAsJsonAsync($"/api/admin/tracks/{track}",
            new { title = "Metered", passThresholdPct = 50, questions = new[] { new { questionId = question, correctAnswer = "a" } } });
        Assert.True(put.IsSuccessStatusCode);
        var submit = await pipeline.LearnerClient("0xmetrics").PostAsJsonAsync("/api/train-attempts/submit",
            new { attemptId = Guid.NewGuid(), trackId = track, durationSec = 30, answers = new[] { new { questionId = question, selectedAnswer = "a" } } });
        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
        var published = SampleEvents.Attempt(track, [(Guid.NewGuid(), true), (Guid.NewGuid(), false)]);
        var corrupt = SampleEvents.Attempt(track, [(Guid.NewGuid(), true)])[0] with { ScoreBasisPoints = 20_000 };
        await pipeline.Publisher.PublishAllAsync(published);
        // Both consumers committed the three first: a redelivery in the same batch as its original would be folded
        // into it by MassTransit (a batch keeps one message per MessageId) and never count as a duplicate.
        foreach (var consumer in new Func<Task<Scrape>>[] { () => ScrapeAsync(pipeline.Ingestor), () => ScrapeAsync(pipeline.Aggregator) })
            await Eventually.Until(consumer, m => m.Sum("telemetry_consumer_events_total", "outcome=\"new\"") == 3,
                TimeSpan.FromSeconds(30), "the three events counted new on a consumer's /metrics");
        await pipeline.Publisher.PublishAllAsync([published[0], corrupt]);
        foreach (var errorQueue in new[] { "event-ingestor_error", "aggregator_error" })
            await pipeline.Broker.TakeDeadLettersAsync(errorQueue, count: 1);

        var attempts = await Eventually.Until(() => ScrapeAsync(pipeline.Attempts), m => m.Sum("telemetry_outbox_published_total") >= 1,
            TimeSpan.FromSeconds(30), "the relay's publish on the attempts API's /metrics");
        Assert.True(attempts.Sum("telemetry_attempts_accepted_total", "decision") >= 1);
        // Drained: the backlog, counted every second here, comes down to nothing waiting.
        attempts = await Eventually.Until(() => ScrapeAsync(pipeline.Attempts),
            m => m.Has("telemetry_outbox_backlog") && m.Sum("telemetry_outbox_backlog") == 0 && !m.Has("telemetry_outbox_oldest_unsent_age_seconds"),
            TimeSpan.FromSeconds(30), "an empty outbox backlog");
        Assert.True(attempts.Has("http_server_request_duration_seconds_bucket"), "ASP.NET Core instrumentation");
        Assert.True(attempts.Has("dotnet_process_cpu_time_seconds_total"), "runtime instrumentation");
        Assert.True(attempts.Has("db_client_operation_duration_seconds_bucket"), "Npgsql instrumentation");

        foreach (var (queue, scrape) in new (string, Func<Task<Scrape>>)[]
                 { ("event-ingestor", () => ScrapeAsync(pipeline.Ingestor)), ("aggregator", () => ScrapeAsync(pipeline.Aggregator)) })
        {
            // One submitted answer and two published events are new, the redelivery a duplicate, the corrupt one refused.
            var metrics = await Eventually.Until(scrape, m => m.Sum("telemetry_consumer_events_total", "outcome=\"duplicate\"") >= 1,
                TimeSpan.FromSeconds(30), "the redelivered event counted as a duplicate");
            Assert.Equal(3, metrics.Sum("telemetry_consumer_events_total", "outcome=\"new\""));
            Assert.Equal(1, metrics.Sum("telemetry_consumer_events_total", "outcome=\"duplicate\""));
            Assert.Equal(1, metrics.Sum("telemetry_consumer_events_total", "outcome=\"refused\""));
            Assert.Equal(1, metrics.Sum("telemetry_dead_letters_total"));
            Assert.True(metrics.Sum("telemetry_consumer_lag_seconds_count") >= 3, "queue lag per event");
            Assert.True(metrics.Has("telemetry_consumer_last_commit_age_seconds"), "age of the last commit");
            Assert.True(metrics.Has("telemetry_retention_last_run_age_seconds"), "age of the last retention run");
            // MassTransit records a consume once the consumer has returned, a moment after the commit.
            await Eventually.Until(scrape, m => m.Sum("messaging_masstransit_consume_duration_milliseconds_count") >= 1,
                TimeSpan.FromSeconds(30), "MassTransit's own consume metrics");
            Assert.False(metrics.Has("telemetry_outbox_published_total"), "another service's meter");
            // The error queue exists since the dead letter; the fixture counts queues every second.
            await Eventually.Until(scrape, m => m.Has("telemetry_queue_messages", $"queue=\"{queue}\"") && m.Has("telemetry_queue_messages", $"queue=\"{queue}_error\""),
                TimeSpan.FromSeconds(30), $"the depths of {queue} and {queue}_error");
        }

        var stats = await ScrapeAsync(pipeline.Stats);
        Assert.True(stats.Has("dotnet_gc_collections_total"), "runtime instrumentation");
    }

    private static async Task<Scrape> ScrapeAsync<TProgram>(ServiceHost<TProgram> service) where TProgram : class
    {
        using var client = service.CreateClient();
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        return new Scrape(await response.Content.ReadAsStringAsync());
    }

    /// <summary>Prometheus' text format, read just enough to sum a metric's samples.</summary>
    private sealed record Scrape(string Text)
    {
        private IEnumerable<(string Name, string Labels, double Value)> Samples =>
            Text.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(line =>
            {
                // name{labels} value [timestamp], or name value [timestamp]
                var nameEnd = line.IndexOfAny(['{', ' ']);
                var labelsEnd = line[nameEnd] == '{' ? line.IndexOf('}', nameEnd) + 1 : nameEnd;
                var value = line[labelsEnd..].Trim().Split(' ')[0];
                return (line[..nameEnd], line[nameEnd..labelsEnd], double.TryParse(value, CultureInfo.InvariantCulture, out var number) ? number : double.NaN);
            });

        public bool Has(string name, string labelContains = "") => Samples.Any(s => s.Name == name && s.Labels.Contains(labelContains));

        public double Sum(string name, string labelContains = "") =>
            Samples.Where(s => s.Name == name && s.Labels.Contains(labelContains)).Sum(s => s.Value);

        public override string ToString() => Text;
    }
}
