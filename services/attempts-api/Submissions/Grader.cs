using Telemetry.Contracts;

namespace Telemetry.AttemptsApi.Submissions;

/// <summary>A track's auto-review settings, set with the track through the admin API.</summary>
/// <param name="PassThresholdPct">Score (0–100) at or above which an attempt passes.</param>
/// <param name="ReviewBandPct">Width of the band just below the threshold that goes to manual review.</param>
/// <param name="MinSecondsPerQuestion">Fewer seconds per answered question than this is implausibly fast.</param>
public sealed record ReviewRules(int PassThresholdPct, int ReviewBandPct, int MinSecondsPerQuestion);

public sealed record Grade(int CorrectCount, int AnsweredCount, int ScoreBasisPoints, string AutoDecision);

/// <summary>A learner's standing before (or after) an attempt.</summary>
public sealed record LearnerState(int ApprovedAttempts, int Level)
{
    public static readonly LearnerState New = new(0, 1);
}

/// <summary>
/// The grading rules, pure and deterministic.
/// <para><b>Correctness.</b> A selected answer is correct when it equals the question's correct answer exactly
/// (ordinal, case- and whitespace-sensitive).</para>
/// <para><b>Score.</b> Correct answers over the track's question count, in basis points (0–10000, rounded half up):
/// a question left unanswered counts as wrong, so answering only the easy questions does not pass.</para>
/// <para><b>Auto-review</b> (per track: pass threshold P %, review band B %, minimum seconds per question M):
/// an attempt is <i>implausibly fast</i> when its duration is below M × answered questions.
/// Score ≥ P and not implausibly fast → approved. Score ≥ P but implausibly fast → pending.
/// P − B ≤ score &lt; P → pending. Otherwise → rejected (a failing score stays rejected however fast it was).</para>
/// <para><b>Level.</b> Every learner starts at level 1. Each approved attempt adds one to the learner's approved count,
/// and the level becomes 1 + approved ÷ N (integer division; N = Levels:ApprovedAttemptsPerLevel, default 3), capped at
/// Levels:MaxLevel (default 10). A level never goes down, even if the settings change. An attempt's levelAtTime is
/// the learner's level before that attempt counts.</para>
/// </summary>
public static class Grader
{
    public static bool IsCorrect(string selectedAnswer, string correctAnswer) =>
        string.Equals(selectedAnswer, correctAnswer, StringComparison.Ordinal);

    public static Grade Grade(GradingTrack track, IReadOnlyList<Answer> answers, int durationSec)
    {
        var correct = answers.Count(a => IsCorrect(a.SelectedAnswer, track.CorrectAnswers[a.QuestionId]));
        var score = ScoreBasisPoints(correct, track.CorrectAnswers.Count);
        return new Grade(correct, answers.Count, score, Decide(track.Rules, score, answers.Count, durationSec));
    }

    public static int ScoreBasisPoints(int correctCount, int questionCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(questionCount);
        ArgumentOutOfRangeException.ThrowIfNegative(correctCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(correctCount, questionCount);
        return (int)((correctCount * 10_000L * 2 + questionCount) / (questionCount * 2L));
    }

    public static string Decide(ReviewRules rules, int scoreBasisPoints, int answeredCount, int durationSec)
    {
        var pass = rules.PassThresholdPct * 100;
        var reviewFrom = Math.Max(0, rules.PassThresholdPct - rules.ReviewBandPct) * 100;
        var implausiblyFast = durationSec < (long)rules.MinSecondsPerQuestion * answeredCount;

        if (scoreBasisPoints >= pass)
            return implausiblyFast ? AutoDecisions.Pending : AutoDecisions.Approved;
        return scoreBasisPoints >= reviewFrom ? AutoDecisions.Pending : AutoDecisions.Rejected;
    }

    public static int LevelFor(int approvedAttempts, Levels levels) =>
        Math.Min(levels.MaxLevel, 1 + approvedAttempts / levels.ApprovedAttemptsPerLevel);

    /// <summary>The learner after an attempt with this decision: only approved attempts count.</summary>
    public static LearnerState After(LearnerState before, string autoDecision, Levels levels)
    {
        if (autoDecision != AutoDecisions.Approved)
            return before;
        var approved = before.ApprovedAttempts + 1;
        return new LearnerState(approved, Math.Max(before.Level, LevelFor(approved, levels)));
    }
}
