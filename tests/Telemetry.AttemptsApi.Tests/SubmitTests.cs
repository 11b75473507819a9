using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Telemetry.AttemptsApi.Outbox;
using Telemetry.Contracts;
using Xunit;

namespace Telemetry.AttemptsApi.Tests;

public sealed class SubmitTests(AttemptsApiFixture api) : IClassFixture<AttemptsApiFixture>
{
    private const string Url = "/api/train-attempts/submit";

    [Fact]
    public async Task An_accepted_attempt_answers_202_with_its_grade_and_stores_one_outbox_row_per_answer()
    {
        var track = await api.CreateTrackAsync(questions: 4, passThresholdPct: 70, reviewBandPct: 10);
        var wallet = AttemptsApiFixture.NewWallet();
        var attemptId = Guid.NewGuid();
        using var client = api.Learner(wallet);

        var response = await client.PostAsJsonAsync(Url, track.Body(attemptId, answered: 3, correct: 3));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var result = await ReadResultAsync(response);
        Assert.Equal(attemptId, result.GetProperty("attemptId").GetGuid());
        Assert.Equal(75m, result.GetProperty("scorePct").GetDecimal());
        Assert.Equal(3, result.GetProperty("correctCount").GetInt32());
        Assert.Equal(3, result.GetProperty("answeredCount").GetInt32());
        Assert.Equal(AutoDecisions.Approved, result.GetProperty("autoDecision").GetString());
        Assert.Equal(1, result.GetProperty("levelAtTime").GetInt32());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("cycleNumber").ValueKind);
        Assert.Equal(3, result.GetProperty("eventsLogged").GetInt32());

        var events = await EventsAsync(attemptId);
        Assert.Equal(track.QuestionIds.Take(3).Select(q => AnswerEventId.For(attemptId, q)), events.Select(e => e.EventId));
        Assert.All(events, e =>
        {
            Assert.Equal(wallet, e.WalletAddress);
            Assert.Equal(track.TrackId, e.TrackId);
            Assert.Equal(7500, e.ScoreBasisPoints);
            Assert.Equal(AutoDecisions.Approved, e.AutoDecision);
            Assert.Equal(3, e.AnswerCount);
            Assert.True(e.IsCorrect);
        });
        Assert.Equal([0, 1, 2], events.Select(e => e.AnswerIndex));
    }

    [Fact]
    public async Task Replaying_the_same_body_answers_the_same_result_and_writes_nothing()
    {
        var track = await api.CreateTrackAsync();
        var wallet = AttemptsApiFixture.NewWallet();
        var attemptId = Guid.NewGuid();
        using var client = api.Learner(wallet);
        var first = await client.PostAsJsonAsync(Url, track.Body(attemptId));
        var outboxBefore = await api.Database.ScalarAsync<long>("SELECT count(*) FROM outbox_messages");
        var learnerBefore = await LearnerAsync(wallet);

        var replay = await client.PostAsJsonAsync(Url, track.Body(attemptId));

        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await replay.Content.ReadAsStringAsync());
        Assert.Equal(outboxBefore, await api.Database.ScalarAsync<long>("SELECT count(*) FROM outbox_messages"));
        Assert.Equal(1, await api.AttemptRowsAsync(attemptId));
        Assert.Equal(learnerBefore, await LearnerAsync(wallet));
    }

    [Fact]
    public async Task A_replay_with_the_answers_in_another_order_is_the_same_submission()
    {
        var track = await api.CreateTrackAsync(questions: 2);
        var attemptId = Guid.NewGuid();
        using var client = api.Learner(AttemptsApiFixture.NewWallet());
        object Body(params int[] order) => new
        {
            attemptId,
            trackId = track.TrackId,
            durationSec = 90,
            answers = order.Select(i => new { questionId = track.QuestionIds[i], selectedAnswer = $"answer-{i}" }),
        };
        await client.PostAsJsonAsync(Url, Body(0, 1));

        var replay = await client.PostAsJsonAsync(Url, Body(1, 0));

        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal(2, await api.OutboxRowsAsync(attemptId));
    }

    [Fact]
    public async Task A_replay_with_a_different_body_gets_a_409_problem_and_writes_nothing()
    {
        var track = await api.CreateTrackAsync();
        var wallet = AttemptsApiFixture.NewWallet();
        var attemptId = Guid.NewGuid();
        using var client = api.Learner(wallet);
        var first = await ReadResultAsync(await client.PostAsJsonAsync(Url, track.Body(attemptId, correct: 3)));
        var learnerBefore = await LearnerAsync(wallet);

        var conflicting = await client.PostAsJsonAsync(Url, track.Body(attemptId, correct: 1));

        await ProblemAssert.NamesFieldAsync(conflicting, HttpStatusCode.Conflict, "attemptId");
        Assert.Equal(1, await api.AttemptRowsAsync(attemptId));
        Assert.Equal(3, await api.OutboxRowsAsync(attemptId));
        Assert.Equal(learnerBefore, await LearnerAsync(wallet));
        var stored = await api.Database.ScalarAsync<int>("SELECT correct_count FROM attempts WHERE attempt_id = $1", attemptId);
        Assert.Equal(first.GetProperty("correctCount").GetInt32(), stored);
    }

    [Fact]
    public async Task The_same_attempt_id_from_another_wallet_gets_a_409_problem()
    {
        var track = await api.CreateTrackAsync();
        var attemptId = Guid.NewGuid();
        using var owner = api.Learner(AttemptsApiFixture.NewWallet());
        using var other = api.Learner(AttemptsApiFixture.NewWallet());
        await owner.PostAsJsonAsync(Url, track.Body(attemptId));

        var response = await other.PostAsJsonAsync(Url, track.Body(attemptId));

        await ProblemAssert.NamesFieldAsync(response, HttpStatusCode.Conflict, "attemptId");
        Assert.Equal(3, await api.OutboxRowsAsync(attemptId));
    }

    [Fact]
    public async Task Fifty_concurrent_identical_submits_store_one_attempt_and_one_set_of_events()
    {
        var track = await api.CreateTrackAsync(questions: 5);
        var wallet = AttemptsApiFixture.NewWallet();
        var attemptId = Guid.NewGuid();
        using var client = api.Learner(wallet);
        var body = JsonSerializer.Serialize(track.Body(attemptId));

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ =>
            client.PostAsync(Url, new StringContent(body, System.Text.Encoding.UTF8, "application/json"))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));
        Assert.Single(bodies.Distinct());
        Assert.Equal(1, await api.AttemptRowsAsync(attemptId));
        Assert.Equal(5, await api.OutboxRowsAsync(attemptId));
        Assert.Equal(5, await api.Database.ScalarAsync<long>(
            "SELECT count(DISTINCT message_id) FROM outbox_messages WHERE payload->>'attemptId' = $1", attemptId.ToString()));
        Assert.Equal((1, 1), await LearnerAsync(wallet));
    }

    [Fact]
    public async Task A_pending_attempt_still_writes_its_events()
    {
        var track = await api.CreateTrackAsync(questions: 4, passThresholdPct: 100, reviewBandPct: 50);
        var attemptId = Guid.NewGuid();
        using var client = api.Learner(AttemptsApiFixture.NewWallet());

        var result = await ReadResultAsync(await client.PostAsJsonAsync(Url, track.Body(attemptId, correct: 3)));

        Assert.Equal(AutoDecisions.Pending, result.GetProperty("autoDecision").GetString());
        Assert.Equal(4, await api.OutboxRowsAsync(attemptId));
    }

    [Fact]
    public async Task A_passing_attempt_answered_implausibly_fast_is_pending()
    {
        var track = await api.CreateTrackAsync(questions: 3, minSecondsPerQuestion: 10);
        using var client = api.Learner(AttemptsApiFixture.NewWallet());

        var result = await ReadResultAsync(await client.PostAsJsonAsync(Url, track.Body(Guid.NewGuid(), durationSec: 29)));

        Assert.Equal(AutoDecisions.Pending, result.GetProperty("autoDecision").GetString());
    }

    [Fact]
    public async Task The_level_at_time_grows_by_one_every_three_approved_attempts()
    {
        var track = await api.CreateTrackAsync(questions: 2, passThresholdPct: 50, reviewBandPct: 0);
        var wallet = AttemptsApiFixture.NewWallet();
        using var client = api.Learner(wallet);
        async Task<int> SubmitAsync(int correct) =>
            (await ReadResultAsync(await client.PostAsJsonAsync(Url, track.Body(Guid.NewGuid(), correct: correct)))).GetProperty("levelAtTime").GetInt32();

        int[] levels = [await SubmitAsync(2), await SubmitAsync(0), await SubmitAsync(2), await SubmitAsync(1), await SubmitAsync(2)];

        Assert.Equal([1, 1, 1, 1, 2], levels);
        Assert.Equal((4, 2), await LearnerAsync(wallet));
    }

    [Fact]
    public async Task An_attempt_in_a_current_cycle_carries_its_number_and_created_at_comes_from_the_clock()
    {
        var track = await api.CreateTrackAsync();
        var cycleStart = new DateTimeOffset(2031, 3, 1, 0, 0, 0, TimeSpan.Zero);
        using var admin = api.Admin();
        (await admin.PutAsJsonAsync("/api/admin/cycles/7", new { startsAt = cycleStart, endsAt = cycleStart.AddDays(30) })).EnsureSuccessStatusCode();
        var submittedAt = cycleStart.AddDays(3).AddTicks(1234567);
        var attemptId = Guid.NewGuid();
        using var client = api.Learner(AttemptsApiFixture.NewWallet());

        api.Clock.Now = submittedAt;
        JsonElement result;
        try
        {
            result = await ReadResultAsync(await client.PostAsJsonAsync(Url, track.Body(attemptId)));
        }
        finally
        {
            api.Clock.Now = null;
        }

        Assert.Equal(7, result.GetProperty("cycleNumber").GetInt32());
        var microseconds = new DateTimeOffset(submittedAt.UtcTicks - submittedAt.UtcTicks % 10, TimeSpan.Zero);
        Assert.All(await EventsAsync(attemptId), e =>
        {
            Assert.Equal(7, e.CycleNumber);
            Assert.Equal(microseconds, e.CreatedAt);
        });
        Assert.Equal(microseconds.UtcDateTime, await api.Database.ScalarAsync<DateTime>("SELECT created_at FROM attempts WHERE attempt_id = $1", attemptId));
    }

    private static async Task<JsonElement> ReadResultAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"expected 202, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<List<AnswerSubmitted>> EventsAsync(Guid attemptId)
    {
        var payloads = await api.Database.ScalarAsync<string>(
            "SELECT coalesce(json_agg(payload ORDER BY id), '[]')::text FROM outbox_messages WHERE payload->>'attemptId' = $1", attemptId.ToString());
        return JsonSerializer.Deserialize<List<AnswerSubmitted>>(payloads, OutboxPayload.SerializerOptions)!;
    }

    private async Task<(int Approved, int Level)> LearnerAsync(string wallet)
    {
        var row = await api.Database.ScalarAsync<string>(
            "SELECT approved_attempts || ',' || level FROM learners WHERE wallet_address = $1", wallet);
        var parts = row.Split(',');
        return (int.Parse(parts[0]), int.Parse(parts[1]));
    }
}
