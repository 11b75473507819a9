using System.Text.Json;
using Telemetry.Contracts;
using Telemetry.Testing;

namespace Telemetry.Bench.Aggregator;

/// <summary>
/// A catalogue of tracks and questions, learners and cycles, and whole attempts drawn from it: 40 tracks of 10–40
/// questions, 20 000 wallets, attempts of 3–12 answers, three-day cycles with 60 % of attempts inside one.
/// </summary>
public sealed class Workload(int seed)
{
    private const int Wallets = 20_000;
    private readonly Random _random = new(seed);
    private readonly (Guid Id, Guid[] Questions)[] _tracks = Catalogue(new Random(seed));

    /// <summary>
    /// A backlog spread over the last <paramref name="days"/> days in the order the outbox relay publishes it (by time),
    /// with one attempt in 50 arriving up to a day late, so some batches straddle days.
    /// </summary>
    public List<AnswerSubmitted> Backlog(int count, int days, DateTimeOffset now)
    {
        var span = TimeSpan.FromDays(days);
        var start = now - span;
        var events = new List<AnswerSubmitted>(count);
        while (events.Count < count)
        {
            var at = start + span * (events.Count / (double)count);
            if (_random.Next(50) == 0)
                at -= TimeSpan.FromHours(_random.NextDouble() * 24);
            events.AddRange(Attempt(at < start ? start : at, count - events.Count));
        }
        return events;
    }

    /// <summary>One attempt of at most <paramref name="maxAnswers"/> answers.</summary>
    public IReadOnlyList<AnswerSubmitted> Attempt(DateTimeOffset createdAt, int maxAnswers = int.MaxValue)
    {
        var (track, questions) = _tracks[_random.Next(_tracks.Length)];
        var answered = Math.Min(maxAnswers, Math.Min(questions.Length, _random.Next(3, 13)));
        var picked = new HashSet<Guid>();
        while (picked.Count < answered)
            picked.Add(questions[_random.Next(questions.Length)]);
        return SampleEvents.Attempt(
            track, picked.Select(q => (q, _random.Next(3) > 0)).ToList(),
            durationSec: _random.Next(20, 900),
            cycleNumber: _random.Next(10) < 6 ? CycleOf(createdAt) : null,
            createdAt: createdAt,
            wallet: $"0x{_random.Next(Wallets):x40}");
    }

    /// <summary>A one-answer attempt at a question of its own in a track of its own: it shows up as a new question_aggregates row.</summary>
    public static AnswerSubmitted Marker(Guid markerTrack, DateTimeOffset createdAt) =>
        SampleEvents.Attempt(markerTrack, [(Guid.NewGuid(), true)], durationSec: 30, createdAt: createdAt, wallet: "0xmarker")[0];

    /// <summary>The message as MassTransit's JSON envelope, as the attempts API's relay publishes it.</summary>
    public static byte[] Envelope(AnswerSubmitted message) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        messageId = message.EventId,
        messageType = new[] { $"urn:message:{typeof(AnswerSubmitted).Namespace}:{nameof(AnswerSubmitted)}" },
        message,
        sentTime = DateTime.UtcNow,
        headers = new { },
    }, JsonSerializerOptions.Web);

    private static int CycleOf(DateTimeOffset at) => 1 + (int)(at.ToUnixTimeSeconds() / (3 * 86_400));

    private static (Guid, Guid[])[] Catalogue(Random random) =>
        Enumerable.Range(0, 40)
            .Select(_ => (Guid.NewGuid(), Enumerable.Range(0, random.Next(10, 41)).Select(_ => Guid.NewGuid()).ToArray()))
            .ToArray();
}
