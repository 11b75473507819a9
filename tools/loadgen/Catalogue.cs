using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Telemetry.LoadGen;

public sealed record LoadTrack(Guid TrackId, string Title, int PassThresholdPct, int ReviewBandPct, int MinSecondsPerQuestion, Guid[] Questions, string[] CorrectAnswers)
{
    public bool IsProbe { get; init; }
}

public sealed record LoadCycle(int CycleNumber, DateTimeOffset StartsAt, DateTimeOffset EndsAt);

/// <summary>
/// The grading rules of the attempts API (README "Grading", "Auto-review"), written again here rather than shared,
/// so a grading bug in the API shows up as a mismatch instead of agreeing with itself.
/// </summary>
public static class Rules
{
    public static bool IsCorrect(string selected, string correct) => string.Equals(selected, correct, StringComparison.Ordinal);

    /// <summary>Correct answers over the track's question count, basis points rounded half up.</summary>
    public static int ScoreBasisPoints(int correct, int questions) => (int)Math.Floor(correct * 10_000m / questions + 0.5m);

    public static string Decide(LoadTrack track, int scoreBasisPoints, int answered, int durationSec)
    {
        var tooFast = durationSec < track.MinSecondsPerQuestion * answered;
        if (scoreBasisPoints >= track.PassThresholdPct * 100)
            return tooFast ? "pending" : "approved";
        return scoreBasisPoints >= Math.Max(0, track.PassThresholdPct - track.ReviewBandPct) * 100 ? "pending" : "rejected";
    }
}

/// <summary>The run's own catalogue: load tracks of realistic sizes, a probe track, and cycles, through the admin API.</summary>
public static class Catalogue
{
    private static readonly int[] Sizes = [5, 8, 10, 12, 15, 20, 6, 25];
    private static readonly int[] Thresholds = [60, 70, 75, 80, 70, 65, 90, 60];
    private static readonly int[] MinSeconds = [2, 3, 5, 2, 4, 3, 2, 6];
    private static readonly string[] Letters = ["A", "B", "C", "D"];

    public const int ProbeQuestions = 50;

    public static List<LoadTrack> Plan(int count, string runId, Random random)
    {
        var tracks = new List<LoadTrack>();
        for (var i = 0; i < count; i++)
        {
            var size = Sizes[i];
            tracks.Add(new LoadTrack(Guid.NewGuid(), $"loadgen {runId} track {i + 1} ({size} questions)", Thresholds[i], 10, MinSeconds[i],
                Enumerable.Range(0, size).Select(_ => Guid.NewGuid()).ToArray(),
                Enumerable.Range(0, size).Select(_ => Letters[random.Next(Letters.Length)]).ToArray()));
        }
        // Probes answer one question each; the review settings make them plain rejected attempts.
        tracks.Add(new LoadTrack(Guid.NewGuid(), $"loadgen {runId} freshness probes", 100, 0, 0,
            Enumerable.Range(0, ProbeQuestions).Select(_ => Guid.NewGuid()).ToArray(),
            Enumerable.Repeat("A", ProbeQuestions).ToArray()) { IsProbe = true });
        return tracks;
    }

    public static async Task CreateTracksAsync(HttpClient attempts, string adminKey, IEnumerable<LoadTrack> tracks)
    {
        foreach (var track in tracks)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, $"api/admin/tracks/{track.TrackId}")
            {
                Content = JsonContent.Create(new
                {
                    title = track.Title,
                    passThresholdPct = track.PassThresholdPct,
                    reviewBandPct = track.ReviewBandPct,
                    minSecondsPerQuestion = track.MinSecondsPerQuestion,
                    questions = track.Questions.Select((q, i) => new { questionId = q, correctAnswer = track.CorrectAnswers[i] }),
                }),
            };
            request.Headers.Add("X-Admin-Key", adminKey);
            using var response = await attempts.SendAsync(request);
            if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.OK))
                throw new InvalidOperationException($"PUT /api/admin/tracks/{track.TrackId} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>
    /// Puts the run's submits into cycles of its own, so their cycle aggregates hold this run's attempts only: a cycle
    /// covering now is ended now (cycles never overlap), then two new cycles follow back to back, the second switching
    /// in mid-run. The current-cycle change is printed; it is the operator's calendar on a local stack.
    /// </summary>
    public static async Task<List<LoadCycle>> CreateCyclesAsync(HttpClient attempts, string adminKey, TimeSpan runLength, Action<string> say)
    {
        var existing = await GetCyclesAsync(attempts, adminKey);
        var now = DateTimeOffset.UtcNow;
        var start = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        foreach (var current in existing.Where(c => c.StartsAt <= start && start < c.EndsAt))
        {
            if (current.StartsAt == start)
                start = start.AddSeconds(1);
            await PutCycleAsync(attempts, adminKey, current with { EndsAt = start });
            say($"ended cycle {current.CycleNumber} (was {current.StartsAt:u} → {current.EndsAt:u}) at {start:u} so this run's attempts go to cycles of its own");
        }
        var next = existing.Where(c => c.StartsAt >= start).Select(c => c.StartsAt).DefaultIfEmpty(start.AddDays(30)).Min();
        var switchAt = start + runLength / 2;
        if (next <= switchAt.AddSeconds(1))
            throw new InvalidOperationException($"a cycle starts at {next:u}, inside the run: no room for the run's own cycles");
        var number = existing.Select(c => c.CycleNumber).DefaultIfEmpty(0).Max() + 1;
        var cycles = new List<LoadCycle> { new(number, start, switchAt), new(number + 1, switchAt, next) };
        foreach (var cycle in cycles)
            await PutCycleAsync(attempts, adminKey, cycle);
        return cycles;
    }

    private static async Task<List<LoadCycle>> GetCyclesAsync(HttpClient attempts, string adminKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/admin/cycles");
        request.Headers.Add("X-Admin-Key", adminKey);
        using var response = await attempts.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.EnumerateArray().Select(c => new LoadCycle(
            c.GetProperty("cycleNumber").GetInt32(), c.GetProperty("startsAt").GetDateTimeOffset(), c.GetProperty("endsAt").GetDateTimeOffset())).ToList();
    }

    private static async Task PutCycleAsync(HttpClient attempts, string adminKey, LoadCycle cycle)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"api/admin/cycles/{cycle.CycleNumber}")
        {
            Content = JsonContent.Create(new { startsAt = cycle.StartsAt, endsAt = cycle.EndsAt }),
        };
        request.Headers.Add("X-Admin-Key", adminKey);
        using var response = await attempts.SendAsync(request);
        if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.OK))
            throw new InvalidOperationException($"PUT /api/admin/cycles/{cycle.CycleNumber} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}

/// <summary>Learner bearer tokens signed like deploy/local/token.sh does: HS256 over the UTF-8 signing key.</summary>
public static class Tokens
{
    public static string For(LocalStack stack, string wallet, TimeSpan lifetime)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Base64Url("""{"alg":"HS256","typ":"JWT"}"""u8.ToArray());
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = stack.JwtIssuer,
            ["aud"] = stack.JwtAudience,
            ["sub"] = wallet,
            [stack.JwtWalletClaim] = wallet,
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + (long)lifetime.TotalSeconds,
        }));
        var signingInput = $"{header}.{payload}";
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(stack.JwtSigningKey), Encoding.ASCII.GetBytes(signingInput));
        return $"{signingInput}.{Base64Url(signature)}";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
