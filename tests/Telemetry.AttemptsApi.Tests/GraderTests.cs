using Telemetry.AttemptsApi.Submissions;
using Telemetry.Contracts;
using Xunit;

namespace Telemetry.AttemptsApi.Tests;

public sealed class GraderTests
{
    private static readonly ReviewRules Rules = new(PassThresholdPct: 70, ReviewBandPct: 10, MinSecondsPerQuestion: 5);
    private static readonly Levels Levels = new() { ApprovedAttemptsPerLevel = 3, MaxLevel = 4 };

    [Theory]
    [InlineData(0, 3, 0)]
    [InlineData(1, 3, 3333)]
    [InlineData(2, 3, 6667)]
    [InlineData(3, 3, 10000)]
    [InlineData(1, 8, 1250)]
    public void Score_is_correct_answers_over_the_track_questions_in_basis_points_rounded_half_up(int correct, int questions, int expected) =>
        Assert.Equal(expected, Grader.ScoreBasisPoints(correct, questions));

    [Fact]
    public void Unanswered_questions_count_as_wrong()
    {
        var track = Track(questions: 4);
        var answers = new[] { new Answer(QuestionIdFor(0), "answer-0"), new Answer(QuestionIdFor(1), "answer-1") };

        var grade = Grader.Grade(track, answers, durationSec: 600);

        Assert.Equal(new Grade(CorrectCount: 2, AnsweredCount: 2, ScoreBasisPoints: 5000, AutoDecision: AutoDecisions.Rejected), grade);
    }

    [Theory]
    [InlineData("answer-0", true)]
    [InlineData("Answer-0", false)]
    [InlineData("answer-0 ", false)]
    [InlineData("", false)]
    public void An_answer_is_correct_only_when_it_equals_the_correct_answer_exactly(string selected, bool correct) =>
        Assert.Equal(correct, Grader.IsCorrect(selected, "answer-0"));

    [Theory]
    [InlineData(7000, AutoDecisions.Approved)]
    [InlineData(10000, AutoDecisions.Approved)]
    [InlineData(6999, AutoDecisions.Pending)]
    [InlineData(6000, AutoDecisions.Pending)]
    [InlineData(5999, AutoDecisions.Rejected)]
    [InlineData(0, AutoDecisions.Rejected)]
    public void Decision_follows_the_pass_threshold_and_the_review_band_below_it(int score, string decision) =>
        Assert.Equal(decision, Grader.Decide(Rules, score, answeredCount: 10, durationSec: 50));

    [Fact]
    public void A_passing_attempt_answered_implausibly_fast_goes_to_review() =>
        Assert.Equal(AutoDecisions.Pending, Grader.Decide(Rules, 10000, answeredCount: 10, durationSec: 49));

    [Fact]
    public void A_failing_attempt_stays_rejected_however_fast_it_was() =>
        Assert.Equal(AutoDecisions.Rejected, Grader.Decide(Rules, 1000, answeredCount: 10, durationSec: 1));

    [Fact]
    public void Without_a_review_band_just_below_the_threshold_is_rejected() =>
        Assert.Equal(AutoDecisions.Rejected, Grader.Decide(Rules with { ReviewBandPct = 0 }, 6999, answeredCount: 10, durationSec: 600));

    [Theory]
    [InlineData(0, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(8, 3)]
    [InlineData(9, 4)]
    [InlineData(100, 4)]
    public void Level_is_one_plus_approved_attempts_per_level_capped_at_the_maximum(int approved, int level) =>
        Assert.Equal(level, Grader.LevelFor(approved, Levels));

    [Fact]
    public void Only_approved_attempts_advance_a_learner()
    {
        var learner = new LearnerState(ApprovedAttempts: 2, Level: 1);

        Assert.Equal(learner, Grader.After(learner, AutoDecisions.Pending, Levels));
        Assert.Equal(learner, Grader.After(learner, AutoDecisions.Rejected, Levels));
        Assert.Equal(new LearnerState(3, 2), Grader.After(learner, AutoDecisions.Approved, Levels));
    }

    [Fact]
    public void A_level_never_goes_down_when_the_settings_change()
    {
        var learner = new LearnerState(ApprovedAttempts: 9, Level: 4);

        Assert.Equal(new LearnerState(10, 4), Grader.After(learner, AutoDecisions.Approved, new Levels { ApprovedAttemptsPerLevel = 100, MaxLevel = 10 }));
    }

    private static GradingTrack Track(int questions) =>
        new(Guid.NewGuid(), Rules, Enumerable.Range(0, questions).ToDictionary(i => QuestionIdFor(i), i => $"answer-{i}"));

    private static Guid QuestionIdFor(int index) => new(index + 1, 0, 0, new byte[8]);
}
