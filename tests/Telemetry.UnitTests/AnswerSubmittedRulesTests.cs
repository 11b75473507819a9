using Telemetry.Contracts;
using Telemetry.EventProcessing;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.UnitTests;

public sealed class AnswerSubmittedRulesTests
{
    private static readonly AnswerSubmitted Valid = SampleEvents.Attempt(Guid.NewGuid(), [(Guid.NewGuid(), true), (Guid.NewGuid(), false)])[1];

    [Fact]
    public void A_well_formed_event_breaks_no_rule() => Assert.Null(AnswerSubmittedRules.Violation(Valid));

    public static TheoryData<string, AnswerSubmitted> Corruptions => new()
    {
        { "eventId", Valid with { EventId = Guid.NewGuid() } },
        { "attemptId", Valid with { AttemptId = Guid.Empty } },
        { "walletAddress", Valid with { WalletAddress = " " } },
        { "walletAddress", Valid with { WalletAddress = "0xab\0cd" } },
        { "selectedAnswer", Valid with { SelectedAnswer = new string('x', 501) } },
        { "selectedAnswer", Valid with { SelectedAnswer = "right\0" } },
        { "scoreBasisPoints", Valid with { ScoreBasisPoints = 10_001 } },
        { "scoreBasisPoints", Valid with { ScoreBasisPoints = -1 } },
        { "attemptDurationSec", Valid with { AttemptDurationSec = -5 } },
        { "levelAtTime", Valid with { LevelAtTime = 0 } },
        { "autoDecision", Valid with { AutoDecision = "maybe" } },
        { "cycleNumber", Valid with { CycleNumber = 0 } },
        { "answerIndex", Valid with { AnswerIndex = 2 } },
        { "answerCount", Valid with { AnswerCount = 0 } },
        { "createdAt", Valid with { CreatedAt = default } },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void A_corrupt_event_is_refused_with_a_reason_naming_the_field(string field, AnswerSubmitted corrupt) =>
        Assert.Contains(field, AnswerSubmittedRules.Violation(corrupt));
}
