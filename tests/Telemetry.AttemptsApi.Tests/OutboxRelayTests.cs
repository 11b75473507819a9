using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RabbitMQ.Client;
using Telemetry.Contracts;
using Telemetry.ServiceDefaults;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.AttemptsApi.Tests;

public sealed class OutboxRelayTests(AttemptsApiFixture api) : IClassFixture<AttemptsApiFixture>
{
    [Fact]
    public async Task The_relay_publishes_every_answer_once_with_its_event_id_as_message_id_and_marks_the_rows_sent()
    {
        var track = await api.CreateTrackAsync(questions: 3);
        var attempts = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid()).ToArray();
        using var client = api.Learner(AttemptsApiFixture.NewWallet());
        foreach (var attemptId in attempts)
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/train-attempts/submit", track.Body(attemptId))).StatusCode);
        var expected = attempts.SelectMany(a => track.QuestionIds.Select(q => AnswerEventId.For(a, q))).Order().ToList();

        await Eventually.Until(
            () => api.Database.ScalarAsync<long>("SELECT count(*) FROM outbox_messages WHERE sent_at IS NULL"),
            unsent => unsent == 0, TimeSpan.FromSeconds(30), "every outbox row to be marked sent");
        var published = await DrainAsync(BrokerTopology.AggregatorQueue, expected.Count);

        Assert.Equal(expected, published.Select(m => m.MessageId).Order());
        Assert.All(published, m => Assert.Equal(m.MessageId, m.EventId));
        // The management API's queue statistics lag by a few seconds.
        await Eventually.Until(() => api.Broker.QueueDepthAsync(BrokerTopology.IngestorQueue), depth => depth.Ready == expected.Count,
            TimeSpan.FromSeconds(30), "the ingestor queue to hold one copy of every event");
        Assert.Equal(expected.Count, await api.Database.ScalarAsync<long>(
            "SELECT count(*) FROM outbox_messages WHERE sent_at IS NOT NULL AND publish_attempts = 1"));
    }

    /// <summary>Reads the queue until <paramref name="count"/> messages arrived, then checks a moment longer that no more come.</summary>
    private async Task<List<(Guid MessageId, Guid EventId)>> DrainAsync(string queue, int count)
    {
        var factory = new ConnectionFactory { Uri = new Uri(api.Broker.AmqpUri) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var messages = new List<(Guid, Guid)>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var quietUntil = DateTime.MaxValue;
        while (DateTime.UtcNow < deadline && DateTime.UtcNow < quietUntil)
        {
            if (await channel.BasicGetAsync(queue, autoAck: true) is not { } delivery)
            {
                await Task.Delay(50);
                continue;
            }
            using var envelope = JsonDocument.Parse(delivery.Body);
            messages.Add((Guid.Parse(delivery.BasicProperties.MessageId!), envelope.RootElement.GetProperty("message").GetProperty("eventId").GetGuid()));
            Assert.Equal(Guid.Parse(delivery.BasicProperties.MessageId!), envelope.RootElement.GetProperty("messageId").GetGuid());
            if (messages.Count >= count)
                quietUntil = DateTime.UtcNow.AddMilliseconds(500);
        }
        return messages;
    }
}
