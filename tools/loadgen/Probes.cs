using System.Text.Json;

namespace Telemetry.LoadGen;

/// <summary>One probe: accepted at AcceptedAt, visible in the dashboard's question statistics at ReflectedAt.</summary>
public sealed class Probe(int phase, int question, long expectedCount, DateTimeOffset acceptedAt)
{
    public int Phase { get; } = phase;
    public int Question { get; } = question;
    public long ExpectedCount { get; } = expectedCount;
    public DateTimeOffset AcceptedAt { get; } = acceptedAt;
    public DateTimeOffset? ReflectedAt { get; set; }
    public TimeSpan? Freshness => ReflectedAt - AcceptedAt;
}

/// <summary>
/// Freshness as a dashboard sees it: one small attempt on the probe track every interval, each answering the next of
/// its questions, while GET /api/stats/questions?trackId=probe is polled; a probe is fresh once its question's
/// attemptsTotal counts it. Question k is probed again only after every other question, so counts never race.
/// </summary>
public sealed class Probes(Driver driver, HttpClient stats, string statsApiKey, LoadTrack probeTrack, int[] probeWallets, TimeSpan interval, TimeSpan poll)
{
    private readonly Lock _gate = new();
    private readonly List<Probe> _probes = [];
    private readonly long[] _accepted = new long[probeTrack.Questions.Length];
    private int _next;

    public volatile int Phase;

    public IReadOnlyList<Probe> All
    {
        get
        {
            lock (_gate)
                return _probes.ToList();
        }
    }

    public async Task SendAsync(CancellationToken stop)
    {
        var sending = new List<Task>();
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                var k = _next++;
                var question = k % probeTrack.Questions.Length;
                var attempt = new LoadAttempt(Guid.NewGuid(), probeWallets[k % probeWallets.Length], probeTrack, 10, [question], ["A"]);
                var phase = Phase;
                sending.Add(Task.Run(async () =>
                {
                    if (await driver.SubmitAttemptAsync(attempt, phase, duplicate: false, resendAfter: null) is not { } accepted)
                        return;
                    lock (_gate)
                        _probes.Add(new Probe(phase, question, ++_accepted[question], accepted.AcceptedAt));
                }, CancellationToken.None));
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException)
        {
        }
        await Task.WhenAll(sending);
    }

    /// <summary>Polls until stopped; the caller stops it once nothing is pending or it gave up waiting.</summary>
    public async Task PollAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (Pending > 0)
                await PollOnceAsync();
            try
            {
                await Task.Delay(poll, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public int Pending
    {
        get
        {
            lock (_gate)
                return _probes.Count(p => p.ReflectedAt is null);
        }
    }

    private async Task PollOnceAsync()
    {
        Dictionary<Guid, long> counts;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"api/stats/questions?trackId={probeTrack.TrackId}");
            request.Headers.Add("X-Api-Key", statsApiKey);
            using var response = await stats.SendAsync(request);
            response.EnsureSuccessStatusCode();
            using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
            counts = json.RootElement.EnumerateArray().ToDictionary(q => q.GetProperty("questionId").GetGuid(), q => q.GetProperty("attemptsTotal").GetInt64());
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            return;
        }
        var now = DateTimeOffset.UtcNow;
        lock (_gate)
            foreach (var probe in _probes.Where(p => p.ReflectedAt is null))
                if (counts.TryGetValue(probeTrack.Questions[probe.Question], out var seen) && seen >= probe.ExpectedCount)
                    probe.ReflectedAt = now;
    }
}
