using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using Telemetry.Contracts;
using Telemetry.Testing.Bench;

namespace Telemetry.Bench.Aggregator;

public sealed record FreshnessResult(double TargetRate, double PublishedRate, IReadOnlyList<TimeSpan> Latencies, TimeSpan PollInterval)
{
    /// <summary>Nearest-rank percentile.</summary>
    public TimeSpan Percentile(double p)
    {
        var sorted = Latencies.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}

/// <summary>
/// Publish-to-aggregate latency at a steady rate: live attempts (createdAt = now) at <c>rate</c> events/s, among them
/// markers, one-answer attempts at a question of their own in a track of their own. A marker counts as reflected when
/// its question_aggregates row is visible: the poll whose snapshot first sees it started after the commit, and the one
/// before it started before the commit, so the latency is exact to one poll interval (reported).
/// </summary>
public sealed class Freshness(RawBroker broker, NpgsqlDataSource admin, Workload workload)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    public async Task<FreshnessResult> MeasureAsync(double rate, int markersPerSecond, TimeSpan warmup, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        var markerTrack = Guid.NewGuid();
        var markerEvery = Math.Max(1, (int)(rate / markersPerSecond));
        var outstanding = new ConcurrentDictionary<Guid, TimeSpan>();
        var latencies = new ConcurrentBag<TimeSpan>();
        using var published = new CancellationTokenSource();
        var poller = PollAsync(clock, outstanding, latencies, warmup, published.Token);

        long sent = 0, sentInWindow = 0;
        var pending = new Queue<Task>();
        var attempt = new Queue<AnswerSubmitted>();
        await using (var channel = await broker.ConfirmingChannelAsync(inFlight: 10_000))
        {
            var end = warmup + duration;
            while (clock.Elapsed < end)
            {
                var due = (long)(rate * clock.Elapsed.TotalSeconds);
                var confirms = new List<Task>();
                for (; sent < due; sent++)
                {
                    var now = DateTimeOffset.UtcNow;
                    AnswerSubmitted message;
                    if (sent % markerEvery == 0)
                    {
                        message = Workload.Marker(markerTrack, now);
                        outstanding[message.QuestionId] = clock.Elapsed;
                    }
                    else
                    {
                        if (attempt.Count == 0)
                            foreach (var e in workload.Attempt(now))
                                attempt.Enqueue(e);
                        message = attempt.Dequeue();
                    }
                    if (clock.Elapsed >= warmup)
                        sentInWindow++;
                    confirms.Add(RawBroker.PublishAsync(channel, RawBroker.AnswerSubmittedExchange, "", Workload.Envelope(message)).AsTask());
                }
                pending.Enqueue(Task.WhenAll(confirms));
                while (pending.Count > 200 || pending.TryPeek(out var oldest) && oldest.IsCompleted)
                    await pending.Dequeue();
                await Task.Delay(Tick);
            }
            await Task.WhenAll(pending);
        }
        await published.CancelAsync();
        await poller;
        if (!outstanding.IsEmpty)
            throw new TimeoutException($"{outstanding.Count} markers were not reflected {Settle.TotalSeconds:N0}s after publishing ended");
        return new FreshnessResult(rate, sentInWindow / duration.TotalSeconds, latencies.ToList(), PollInterval);
    }

    /// <summary>Polls until publishing has ended and every marker is visible (or Settle has passed since).</summary>
    private async Task PollAsync(Stopwatch clock, ConcurrentDictionary<Guid, TimeSpan> outstanding, ConcurrentBag<TimeSpan> latencies, TimeSpan warmup,
        CancellationToken published)
    {
        TimeSpan? publishingEnded = null;
        while (publishingEnded is null || (!outstanding.IsEmpty && clock.Elapsed - publishingEnded < Settle))
        {
            if (publishingEnded is null && published.IsCancellationRequested)
                publishingEnded = clock.Elapsed;
            await Task.Delay(PollInterval, CancellationToken.None);
            var ids = outstanding.Keys.ToArray();
            if (ids.Length == 0)
                continue;
            var snapshot = clock.Elapsed;
            await using var command = admin.CreateCommand("SELECT question_id FROM question_aggregates WHERE question_id = ANY($1)");
            command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
            await using var reader = await command.ExecuteReaderAsync(CancellationToken.None);
            while (await reader.ReadAsync(CancellationToken.None))
                if (outstanding.TryRemove(reader.GetGuid(0), out var sentAt) && sentAt >= warmup)
                    latencies.Add(snapshot - sentAt);
        }
    }
}
