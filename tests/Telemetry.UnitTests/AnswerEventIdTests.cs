using Telemetry.Contracts;
using Xunit;

namespace Telemetry.UnitTests;

public sealed class AnswerEventIdTests
{
    [Fact]
    public void The_same_attempt_and_question_always_give_the_same_event_id()
    {
        var (attempt, question) = (Guid.NewGuid(), Guid.NewGuid());
        Assert.Equal(AnswerEventId.For(attempt, question), AnswerEventId.For(attempt, question));
    }

    [Fact]
    public void Different_questions_or_attempts_give_different_ids_and_order_matters()
    {
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        var ids = new[] { AnswerEventId.For(a, b), AnswerEventId.For(b, a), AnswerEventId.For(a, a), AnswerEventId.For(b, b) };
        Assert.Equal(ids.Length, ids.Distinct().Count());
    }

    [Fact]
    public void Event_ids_are_version_5_rfc_uuids_with_a_stable_known_value()
    {
        var id = AnswerEventId.For(Guid.Parse("00000000-0000-0000-0000-000000000001"), Guid.Parse("00000000-0000-0000-0000-000000000002"));
        var text = id.ToString();
        Assert.Equal('5', text[14]);
        Assert.Contains(text[19], "89ab");
        // Pinned: changing the derivation would break idempotency for attempts already accepted.
        Assert.Equal(AnswerEventIdPin, text);
    }

    private const string AnswerEventIdPin = "e3412f06-cc2a-530b-a7fe-d2290eca1e00";
}
