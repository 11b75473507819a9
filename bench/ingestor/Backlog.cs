using System.Text.Json;
using Telemetry.Contracts;
using Telemetry.Testing;
using Telemetry.Testing.Bench;

namespace Telemetry.Bench.Ingestor;

/// <summary>
/// The backlog: valid AnswerSubmitted events for whole attempts, serialized once as MassTransit JSON envelopes for
/// <see cref="RawBroker.LoadAsync"/> to publish straight into a consumer queue.
/// </summary>
public sealed class Backlog
{
    private static readonly string MessageType = $"urn:message:{typeof(AnswerSubmitted).Namespace}:{nameof(AnswerSubmitted)}";

    private Backlog(IReadOnlyList<AnswerSubmitted> events)
    {
        Events = events;
        Bodies = events.Select(Envelope).ToArray();
    }

    public IReadOnlyList<AnswerSubmitted> Events { get; }
    public IReadOnlyList<byte[]> Bodies { get; }

    public static Backlog Create(int count) => new(Generate(count));

    /// <summary>Attempts of 5 answers across 20 tracks of 50 questions, created over the last six hours.</summary>
    private static List<AnswerSubmitted> Generate(int count)
    {
        var random = new Random(42);
        var tracks = Enumerable.Range(0, 20).Select(_ => (Id: Guid.NewGuid(), Questions: Enumerable.Range(0, 50).Select(_ => Guid.NewGuid()).ToArray())).ToArray();
        var now = DateTimeOffset.UtcNow;
        var events = new List<AnswerSubmitted>(count);
        while (events.Count < count)
        {
            var (track, questions) = tracks[random.Next(tracks.Length)];
            var answers = questions.OrderBy(_ => random.Next()).Take(Math.Min(5, count - events.Count)).Select(q => (q, random.Next(3) > 0)).ToList();
            events.AddRange(SampleEvents.Attempt(track, answers, durationSec: random.Next(20, 600), cycleNumber: random.Next(2) == 0 ? null : 7,
                createdAt: now.AddSeconds(-random.Next(6 * 3600)), wallet: $"0x{random.Next():x8}{random.Next():x8}"));
        }
        return events;
    }

    private static byte[] Envelope(AnswerSubmitted message) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        messageId = message.EventId,
        conversationId = message.EventId,
        messageType = new[] { MessageType },
        message,
        sentTime = DateTime.UtcNow,
        headers = new Dictionary<string, object>(),
    }, JsonSerializerOptions.Web);
}
