using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Telemetry.LoadGen;

/// <summary>Request outcomes, counted as they happen (read by the progress line).</summary>
public sealed class Counters
{
    public long Requests;
    public long Accepted;
    public long AcceptedEvents;
    public long RateLimited;
    public long ServerErrors;
    public long Timeouts;
    public long ClientErrors;
    public long ReplaysMatching;
    public long ReplayMismatches;
    public long GradingMismatches;
    public long Unresolved;
    public readonly ConcurrentDictionary<int, long> ByStatus = new();

    public long Errors => ServerErrors + Timeouts + ClientErrors;
}

/// <summary>
/// Submits attempts the way the frontend does: bearer token per wallet, the attemptId as idempotency key, resending the
/// same body on 429 (after Retry-After), 5xx and timeouts until an answer is definite, a share of attempts sent twice at
/// once, and a share sent again after their 202. Every first 202 goes into the ledger of accepted attempts.
/// </summary>
public sealed class Driver(HttpClient attempts, string[] tokens, Counters counters, Action<string> say)
{
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(3);
    private readonly ConcurrentQueue<AcceptedAttempt> _accepted = new();
    private readonly ConcurrentQueue<(LoadAttempt Attempt, int Phase, DateTimeOffset FirstSentAt)> _unresolved = new();
    private readonly ConcurrentBag<Task> _background = [];
    private readonly Lock _latencyLock = new();
    private readonly List<float> _latencyMs = [];
    private int _complaints;

    public IReadOnlyCollection<AcceptedAttempt> Accepted => _accepted;

    public IReadOnlyList<float> LatenciesMs
    {
        get
        {
            lock (_latencyLock)
                return _latencyMs.ToList();
        }
    }

    /// <summary>Offers `rate` new attempts per second for `duration`, at most maxInFlight requests at once.</summary>
    public async Task RunPhaseAsync(int phase, double rate, TimeSpan duration, int maxInFlight, AttemptGenerator generator, Random random,
        double retryShare, double duplicateShare)
    {
        using var slots = new SemaphoreSlim(maxInFlight);
        var running = new List<Task>();
        var clock = Stopwatch.StartNew();
        long released = 0;
        while (clock.Elapsed < duration)
        {
            var due = (long)(clock.Elapsed.TotalSeconds * rate);
            while (released < due && clock.Elapsed < duration)
            {
                await slots.WaitAsync();
                released++;
                var attempt = generator.Next();
                var duplicate = random.NextDouble() < duplicateShare;
                // Drawn here: Random is not thread-safe, and only this loop uses it.
                TimeSpan? resendAfter = random.NextDouble() < retryShare ? TimeSpan.FromMilliseconds(500 + random.Next(4500)) : null;
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        await SubmitAttemptAsync(attempt, phase, duplicate, resendAfter);
                    }
                    finally
                    {
                        slots.Release();
                    }
                }));
            }
            await Task.Delay(2);
        }
        await Task.WhenAll(running);
    }

    /// <summary>Sends one attempt (twice at once if duplicate); schedules the later resend without holding a slot.</summary>
    public async Task<AcceptedAttempt?> SubmitAttemptAsync(LoadAttempt attempt, int phase, bool duplicate, TimeSpan? resendAfter)
    {
        var firstSentAt = DateTimeOffset.UtcNow;
        SubmitResult? result;
        if (duplicate)
        {
            var both = await Task.WhenAll(SendUntilDefiniteAsync(attempt), SendUntilDefiniteAsync(attempt));
            result = both[0] ?? both[1];
            if (both[0] is not null && both[1] is not null)
                CompareReplay(attempt, both[0]!, both[1]!, "concurrent duplicate");
        }
        else
            result = await SendUntilDefiniteAsync(attempt);

        if (result is null)
        {
            _unresolved.Enqueue((attempt, phase, firstSentAt));
            return null;
        }
        var accepted = Record(attempt, result, firstSentAt, phase);
        if (resendAfter is { } delay)
            _background.Add(Task.Run(async () =>
            {
                await Task.Delay(delay);
                if (await SendUntilDefiniteAsync(attempt) is { } again)
                    CompareReplay(attempt, result, again, "retry");
            }));
        return accepted;
    }

    private AcceptedAttempt Record(LoadAttempt attempt, SubmitResult result, DateTimeOffset firstSentAt, int phase)
    {
        var accepted = new AcceptedAttempt(attempt, result, firstSentAt, DateTimeOffset.UtcNow, phase);
        _accepted.Enqueue(accepted);
        Interlocked.Increment(ref counters.Accepted);
        Interlocked.Add(ref counters.AcceptedEvents, attempt.Questions.Length);
        if (attempt.GradingDifference(result) is { } difference)
        {
            Interlocked.Increment(ref counters.GradingMismatches);
            Complain($"grading mismatch for attempt {attempt.AttemptId}: {difference}");
        }
        return accepted;
    }

    private void CompareReplay(LoadAttempt attempt, SubmitResult original, SubmitResult replay, string what)
    {
        if (original == replay)
            Interlocked.Increment(ref counters.ReplaysMatching);
        else
        {
            Interlocked.Increment(ref counters.ReplayMismatches);
            Complain($"{what} of attempt {attempt.AttemptId} answered {JsonSerializer.Serialize(replay)}, first answer {JsonSerializer.Serialize(original)}");
        }
    }

    /// <summary>Waits for the later resends, then settles every attempt whose outcome is still unknown by sending it again.</summary>
    public async Task DrainAsync()
    {
        while (_background.TryTake(out var task))
            await task;
        var rounds = 0;
        while (_unresolved.TryDequeue(out var item))
        {
            if (++rounds > 10_000)
                throw new InvalidOperationException("attempts stay unresolved: the attempts API keeps failing");
            if (await SendUntilDefiniteAsync(item.Attempt) is { } result)
                Record(item.Attempt, result, item.FirstSentAt, item.Phase);
            else if (!_definitelyRefused.ContainsKey(item.Attempt.AttemptId))
            {
                Interlocked.Increment(ref counters.Unresolved);
                _unresolved.Enqueue(item);
                await Task.Delay(1000);
            }
        }
    }

    private readonly ConcurrentDictionary<Guid, int> _definitelyRefused = new();

    /// <summary>The 202 result; null after a definite refusal (4xx other than 429) or when the API kept failing for minutes.</summary>
    private async Task<SubmitResult?> SendUntilDefiniteAsync(LoadAttempt attempt)
    {
        var deadline = Stopwatch.StartNew();
        for (var tries = 0; ; tries++)
        {
            var backoff = TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(tries, 6))));
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/train-attempts/submit")
            {
                Content = new ByteArrayContent(attempt.Body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[attempt.Wallet]);
            Interlocked.Increment(ref counters.Requests);
            var sent = Stopwatch.GetTimestamp();
            try
            {
                using var response = await attempts.SendAsync(request);
                var body = await response.Content.ReadAsByteArrayAsync();
                var status = (int)response.StatusCode;
                counters.ByStatus.AddOrUpdate(status, 1, (_, n) => n + 1);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    lock (_latencyLock)
                        _latencyMs.Add((float)Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                    return JsonSerializer.Deserialize<SubmitResult>(body, JsonSerializerOptions.Web);
                }
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    Interlocked.Increment(ref counters.RateLimited);
                    backoff = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                }
                else if (status >= 500)
                    Interlocked.Increment(ref counters.ServerErrors);
                else
                {
                    Interlocked.Increment(ref counters.ClientErrors);
                    _definitelyRefused[attempt.AttemptId] = status;
                    Complain($"attempt {attempt.AttemptId} refused with {status}: {Encoding.UTF8.GetString(body)}");
                    return null;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
            {
                Interlocked.Increment(ref counters.Timeouts);
            }
            if (deadline.Elapsed > GiveUpAfter)
                return null;
            await Task.Delay(backoff);
        }
    }

    private void Complain(string message)
    {
        if (Interlocked.Increment(ref _complaints) <= 20)
            say("  ! " + message);
    }
}
