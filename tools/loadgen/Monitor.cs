using System.Diagnostics;
using Npgsql;

namespace Telemetry.LoadGen;

/// <summary>What the database shows of this run's tracks (read with the DATABASE_URL role, which may read every table).</summary>
public sealed class PipelineView(NpgsqlDataSource database, Guid[] trackIds, DateTimeOffset since)
{
    public async Task<long> AnswerEventsAsync() =>
        await ScalarAsync("SELECT count(*) FROM answer_events WHERE track_id = ANY($1) AND created_at >= $2", trackIds, since.UtcDateTime);

    /// <summary>Answers counted in the per-question aggregates (one per event) and attempts in the per-track ones.</summary>
    public async Task<(long Events, long Attempts)> AggregatedAsync()
    {
        await using var command = database.CreateCommand("""
            SELECT (SELECT coalesce(sum(attempts_total), 0)::bigint FROM question_aggregates WHERE track_id = ANY($1)),
                   (SELECT coalesce(sum(attempts_total), 0)::bigint FROM track_aggregates WHERE track_id = ANY($1))
            """);
        command.Parameters.AddWithValue(trackIds);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    public async Task<long> OutboxUnsentAsync() => await ScalarAsync("SELECT count(*) FROM outbox_messages WHERE sent_at IS NULL");

    private async Task<long> ScalarAsync(string sql, params object[] parameters)
    {
        await using var command = database.CreateCommand(sql);
        foreach (var parameter in parameters)
            command.Parameters.AddWithValue(parameter);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}

/// <summary>Peaks seen by the progress sampler during one phase: where work piles up.</summary>
public sealed class PhasePeaks
{
    public long Outbox;
    public long IngestorQueue;
    public long AggregatorQueue;
    public long AggregateLagEvents;
    public readonly List<(double Seconds, long Lag, long Outbox, long IngestorQueue, long AggregatorQueue)> WhileLoading = [];

    /// <summary>Least-squares growth of the aggregate lag while load was offered, in events per minute: above zero, work piles up.</summary>
    public double? LagGrowthPerMinute => Slope(p => p.Lag);

    /// <summary>The same for the outbox backlog and the two queues: the stage whose backlog grows is the one that cannot keep up.</summary>
    public (double? Outbox, double? IngestorQueue, double? AggregatorQueue) BacklogGrowthPerMinute =>
        (Slope(p => p.Outbox), Slope(p => p.IngestorQueue), Slope(p => p.AggregatorQueue));

    private double? Slope(Func<(double Seconds, long Lag, long Outbox, long IngestorQueue, long AggregatorQueue), long> value)
    {
        if (WhileLoading.Count < 3)
            return null;
        var mx = WhileLoading.Average(p => p.Seconds);
        var my = WhileLoading.Average(p => (double)value(p));
        var sxx = WhileLoading.Sum(p => (p.Seconds - mx) * (p.Seconds - mx));
        return sxx == 0 ? null : WhileLoading.Sum(p => (p.Seconds - mx) * (value(p) - my)) / sxx * 60;
    }
}

/// <summary>The live progress line, and the wait for the pipeline to settle after a phase.</summary>
public sealed class Monitor(LocalStack stack, PipelineView view, Counters counters, Probes probes, HttpClient management, Action<string> say)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    public PhasePeaks Peaks { get; private set; } = new();

    /// <summary>The largest anonymous memory sampled per service process (replicas by their pid file's name) over the whole run.</summary>
    public Dictionary<string, double> PeakAnonymousMb { get; } = [];

    /// <summary>Every progress sample: seconds since start, events accepted, in answer_events, in the aggregates.</summary>
    public List<(double Seconds, long Accepted, long Rows, long Aggregated)> Samples { get; } = [];

    /// <summary>True while a phase offers load; only then do lag samples count towards the lag's growth.</summary>
    public volatile bool Loading;

    public PhasePeaks NewPhase()
    {
        var finished = Peaks;
        Peaks = new PhasePeaks();
        return finished;
    }

    public async Task RunAsync(TimeSpan every, CancellationToken stop)
    {
        say("   time      sent  accepted  ev.accepted  errors  429s  answer_events  aggregated  aggr.lag  outbox  q.ingestor  q.aggregator  fresh.last  rss attempts/stats/ingestor/aggregator MB (replicas +)");
        long lastAccepted = 0;
        var last = _clock.Elapsed;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            try
            {
                var rows = await view.AnswerEventsAsync();
                var (aggregated, _) = await view.AggregatedAsync();
                var outbox = await view.OutboxUnsentAsync();
                var ingestorQueue = await LocalStack.QueueDepthAsync(management, "event-ingestor", stop);
                var aggregatorQueue = await LocalStack.QueueDepthAsync(management, "aggregator", stop);
                var accepted = Interlocked.Read(ref counters.Accepted);
                var events = Interlocked.Read(ref counters.AcceptedEvents);
                var lag = events - aggregated;
                var peaks = Peaks;
                peaks.Outbox = Math.Max(peaks.Outbox, outbox);
                peaks.IngestorQueue = Math.Max(peaks.IngestorQueue, ingestorQueue);
                peaks.AggregatorQueue = Math.Max(peaks.AggregatorQueue, aggregatorQueue);
                peaks.AggregateLagEvents = Math.Max(peaks.AggregateLagEvents, lag);
                if (Loading)
                    peaks.WhileLoading.Add((_clock.Elapsed.TotalSeconds, lag, outbox, ingestorQueue, aggregatorQueue));
                Samples.Add((_clock.Elapsed.TotalSeconds, events, rows, aggregated));
                var fresh = probes.All.LastOrDefault(p => p.Freshness is not null)?.Freshness;
                var replicas = stack.AllReplicas();
                foreach (var replica in replicas)
                    if (ProcessStats.AnonymousMb(replica.Pid) is { } anonymous)
                        PeakAnonymousMb[replica.Name] = Math.Max(PeakAnonymousMb.GetValueOrDefault(replica.Name), anonymous);
                // A service's replicas joined with '+': 229/124/195+180/209+200+190.
                var rss = string.Join('/', LocalStack.Services.Select(s => replicas.Where(r => r.Service == s).ToList() is { Count: > 0 } mine
                    ? string.Join('+', mine.Select(r => ProcessStats.MemoryMb(r.Pid, "VmRSS") is { } mb ? $"{mb:N0}" : "-"))
                    : "-"));
                var now = _clock.Elapsed;
                var rate = (accepted - lastAccepted) / (now - last).TotalSeconds;
                (lastAccepted, last) = (accepted, now);
                say($"{now.TotalSeconds,7:N0}s {counters.Requests,9:N0} {accepted,9:N0} {events,12:N0} {counters.Errors,7:N0} {counters.RateLimited,5:N0} {rows,14:N0} {aggregated,11:N0} {lag,9:N0} {outbox,7:N0} {ingestorQueue,11:N0} {aggregatorQueue,13:N0} {(fresh is null ? "-" : $"{fresh.Value.TotalSeconds:N1}s"),11}  {rss}   ({rate:N0} att/s)");
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                say($"  (progress sample failed: {ex.Message})");
            }
        }
    }

    /// <summary>
    /// Waits until answer_events and the aggregates hold every accepted event, and notes when each got there.
    /// Null times when the timeout passed first. Counts above the expected ones end the wait too: they are reported.
    /// </summary>
    public async Task<(DateTimeOffset? Rows, DateTimeOffset? Aggregates)> WaitSettledAsync(long expectedEvents, long expectedAttempts, TimeSpan timeout)
    {
        DateTimeOffset? rowsAt = null, aggregatesAt = null;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout && (rowsAt is null || aggregatesAt is null))
        {
            var (events, attempts) = await view.AggregatedAsync();
            if (aggregatesAt is null && events >= expectedEvents && attempts >= expectedAttempts)
                aggregatesAt = DateTimeOffset.UtcNow;
            if (rowsAt is null && await view.AnswerEventsAsync() >= expectedEvents)
                rowsAt = DateTimeOffset.UtcNow;
            await Task.Delay(200);
        }
        return (rowsAt, aggregatesAt);
    }
}
