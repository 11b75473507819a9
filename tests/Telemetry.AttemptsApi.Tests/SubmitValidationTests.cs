using System.Net;
using System.Net.Http.Json;
using System.Text;
using Xunit;

namespace Telemetry.AttemptsApi.Tests;

/// <summary>Invariant 5 over HTTP: every bad submission gets a problem naming the field, and writes nothing.</summary>
public sealed class SubmitValidationTests(AttemptsApiFixture api) : IClassFixture<AttemptsApiFixture>, IAsyncLifetime
{
    private const string Url = "/api/train-attempts/submit";
    private TestTrack _track = null!;
    private TestTrack _otherTrack = null!;

    public async Task InitializeAsync()
    {
        _track = await api.CreateTrackAsync(questions: 3);
        _otherTrack = await api.CreateTrackAsync(questions: 1);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    // Placeholders: {attempt}, {track}, {q0}…{q2} (questions of the track), {other} (a question of another track).
    private const string A0 = """{"questionId":"{q0}","selectedAnswer":"answer-0"}""";
    private const string A1 = """{"questionId":"{q1}","selectedAnswer":"answer-1"}""";

    public static TheoryData<string, string, string> InvalidBodies => new()
    {
        { "attemptId is missing", $$"""{"trackId":"{track}","durationSec":60,"answers":[{{A0}}]}""", "attemptId" },
        { "attemptId is not a uuid", $$"""{"attemptId":"not-a-uuid","trackId":"{track}","durationSec":60,"answers":[{{A0}}]}""", "attemptId" },
        { "attemptId is the all-zero uuid", $$"""{"attemptId":"00000000-0000-0000-0000-000000000000","trackId":"{track}","durationSec":60,"answers":[{{A0}}]}""", "attemptId" },
        { "attemptId is a number", $$"""{"attemptId":42,"trackId":"{track}","durationSec":60,"answers":[{{A0}}]}""", "attemptId" },
        { "trackId is missing", $$"""{"attemptId":"{attempt}","durationSec":60,"answers":[{{A0}}]}""", "trackId" },
        { "trackId is not a uuid", $$"""{"attemptId":"{attempt}","trackId":"track-1","durationSec":60,"answers":[{{A0}}]}""", "trackId" },
        { "durationSec is missing", $$"""{"attemptId":"{attempt}","trackId":"{track}","answers":[{{A0}}]}""", "durationSec" },
        { "durationSec is negative", $$"""{"attemptId":"{attempt}","trackId":"{track}","durationSec":-5,"answers":[{{A0}}]}""", "durationSec" },
        { "durationSec is zero", $$"""{"attemptId":"{attempt}","trackId":"{track}","durationSec":0,"answers":[{{A0}}]}""", "durationSec" },
        { "durationSec is absurdly long", $$"""{"attemptId":"{attempt}","trackId":"{track}","durationSec":864000,"answers":[{{A0}}]}""", "durationSec" },
        { "durationSec overflows an int", $$"""{"attemptId":"{attempt}","trackId":"{track}","durationSec":99999999999,"answers":[{{A0}}]}""", "durationSec" },
        { "durationSec is fractional", $$"""{"attemptId":"{attempt}","trackId":"{track}","durationSec":12.5,"answers":[{{A0}}]}""", "durationSec" },
        { "durationSec is a word", $$"""{"attemptId":"{attempt}","trackId":"{track}","durationSec":"sixty","answers":[{{A0}}]}""", "durationSec" },
        { "answers are missing", """{"attemptId":"{attempt}","trackId":"{track}","durationSec":60}""", "answers" },
        { "answers are empty", """{"attemptId":"{attempt}","trackId":"{track}","durationSec":60,"answers":[]}""", "answers" },
        { "answers are not a list", """{"attemptId":"{attempt}","trackId":"{track}","durationSec":60,"answers":{"questionId":"{q0}"}}""", "answers" },
        { "an answer is null", $$"""{"attemptId":"{attempt}","trackId":"{track}","durationSec":60,"answers":[{{A0}},null]}""", "answers[1]" },
        { "an answer has no questionId", """{"attemptId":"{attempt}","trackId":"{track}","durationSec":60,"answers":[{"selectedAnswer":"x"}]}""", "answers[0].questionId" },
        { "an answer's questionId is not a uuid", """{"attemptId":"{attempt}","trackId":"{track}","durationSec":60,"answers":[{"questionId":"q-1","selectedAnswer":"x"}]}""", "answers[0].questionId" },
        { "an answer has no selectedAnswer", """{"attemptId":"{attempt}","trackId":"{track}","durationSec":60,"answers":[{"questionId":"{q0}"}]}""", "answers[0].selectedAnswer" },
        { "an answer's selectedAnswer is blank", """{"attemptId":"{attempt}","trackId":"{track}","durationSec":60,"answers":[{"questionId":"{q0}","selectedAnswer":"  "}]}""", "answers[0].selectedAnswer" },
        { "an answer's selectedAnswer is too long", """{"attemptId":"{attempt}","trackId":"{track}","durationSec":60,"answers":[{"questionId":"{q0}","selectedAnswer":"{long}"}]}""", "answers[0].selectedAnswer" },
        { "two answers have the same questionId", $$"""{"attemptId":"{attempt}","trackId":"{track}","durationSec":60,"answers":[{{A0}},{{A1}},{{A0}}]}""", "answers[2].questionId" },
        { "a question is not in the track", $$"""{"attemptId":"{attempt}","trackId":"{track}","durationSec":60,"answers":[{{A0}},{"questionId":"{other}","selectedAnswer":"x"}]}""", "answers[1].questionId" },
        { "there are more answers than the track has questions", """{"attemptId":"{attempt}","trackId":"{track}","durationSec":60,"answers":[{"questionId":"{q0}","selectedAnswer":"a"},{"questionId":"{q1}","selectedAnswer":"a"},{"questionId":"{q2}","selectedAnswer":"a"},{"questionId":"{other}","selectedAnswer":"a"}]}""", "answers" },
        { "the body is not JSON", "attemptId={attempt}", "body" },
        { "the body is JSON null", "null", "body" },
        { "the body is a JSON list", "[]", "body" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task An_invalid_submission_gets_a_400_problem_naming_the_field_and_writes_nothing(string because, string template, string field)
    {
        var wallet = AttemptsApiFixture.NewWallet();
        var attemptId = Guid.NewGuid();
        using var client = api.Learner(wallet);

        var response = await client.PostAsync(Url, Json(Fill(template, attemptId)));

        await ProblemAssert.NamesFieldAsync(response, HttpStatusCode.BadRequest, field);
        await AssertNothingWrittenAsync(attemptId, wallet, because);
    }

    [Fact]
    public async Task An_unknown_track_gets_a_404_problem_naming_trackId_and_writes_nothing()
    {
        var wallet = AttemptsApiFixture.NewWallet();
        var attemptId = Guid.NewGuid();
        using var client = api.Learner(wallet);

        var response = await client.PostAsync(Url, Json(Fill($$"""{"attemptId":"{attempt}","trackId":"{{Guid.NewGuid()}}","durationSec":60,"answers":[{{A0}}]}""", attemptId)));

        await ProblemAssert.NamesFieldAsync(response, HttpStatusCode.NotFound, "trackId");
        await AssertNothingWrittenAsync(attemptId, wallet, "the track is unknown");
    }

    [Fact]
    public async Task A_body_over_the_size_limit_gets_a_413_problem_and_writes_nothing()
    {
        var wallet = AttemptsApiFixture.NewWallet();
        var attemptId = Guid.NewGuid();
        using var client = api.Learner(wallet);

        var response = await client.PostAsync(Url, Json(OversizeBody(attemptId)));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        await AssertNothingWrittenAsync(attemptId, wallet, "the body is too large");
    }

    [Fact]
    public async Task A_body_that_is_not_json_gets_a_415_problem()
    {
        using var client = api.Learner(AttemptsApiFixture.NewWallet());

        var response = await client.PostAsync(Url, new StringContent("attemptId=1", Encoding.UTF8, "application/x-www-form-urlencoded"));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Every_invalid_field_is_named_at_once()
    {
        using var client = api.Learner(AttemptsApiFixture.NewWallet());

        var response = await client.PostAsJsonAsync(Url, new { attemptId = "x", trackId = "y", durationSec = -1, answers = Array.Empty<object>() });

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        var named = problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order();
        Assert.Equal(["answers", "attemptId", "durationSec", "trackId"], named);
    }

    private async Task AssertNothingWrittenAsync(Guid attemptId, string wallet, string because)
    {
        Assert.True(0 == await api.AttemptRowsAsync(attemptId), $"no attempt row when {because}");
        Assert.True(0 == await api.OutboxRowsAsync(attemptId), $"no outbox row when {because}");
        Assert.True(0 == await api.LearnerRowsAsync(wallet), $"no learner row when {because}");
    }

    private string Fill(string template, Guid attemptId) => template
        .Replace("{attempt}", attemptId.ToString())
        .Replace("{track}", _track.TrackId.ToString())
        .Replace("{q0}", _track.QuestionIds[0].ToString())
        .Replace("{q1}", _track.QuestionIds[1].ToString())
        .Replace("{q2}", _track.QuestionIds[2].ToString())
        .Replace("{other}", _otherTrack.QuestionIds[0].ToString())
        .Replace("{long}", new string('x', 501));

    private string OversizeBody(Guid attemptId) =>
        Fill($$"""{"attemptId":"{attempt}","trackId":"{track}","durationSec":60,"answers":[{{A0}}],"padding":"{{new string('p', 70_000)}}"}""", attemptId);

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

}
