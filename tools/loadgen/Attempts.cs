using System.Text.Json;

namespace Telemetry.LoadGen;

/// <summary>The 202 body of POST /api/train-attempts/submit.</summary>
public sealed record SubmitResult(Guid AttemptId, decimal ScorePct, int CorrectCount, int AnsweredCount, string AutoDecision, int LevelAtTime, int? CycleNumber, int EventsLogged);

/// <summary>One attempt as the frontend would post it; the body is serialized once so every resend is byte-identical.</summary>
public sealed class LoadAttempt
{
    public LoadAttempt(Guid attemptId, int wallet, LoadTrack track, int durationSec, int[] questions, string[] selected)
    {
        AttemptId = attemptId;
        Wallet = wallet;
        Track = track;
        DurationSec = durationSec;
        Questions = questions;
        Selected = selected;
        Body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            attemptId,
            trackId = track.TrackId,
            durationSec,
            answers = questions.Select((q, i) => new { questionId = track.Questions[q], selectedAnswer = selected[i] }),
        });
    }

    public Guid AttemptId { get; }
    public int Wallet { get; }
    public LoadTrack Track { get; }
    public int DurationSec { get; }

    /// <summary>Indexes into the track's questions, in answer order.</summary>
    public int[] Questions { get; }

    public string[] Selected { get; }
    public byte[] Body { get; }

    public bool IsCorrect(int answer) => Rules.IsCorrect(Selected[answer], Track.CorrectAnswers[Questions[answer]]);

    public int CorrectCount => Enumerable.Range(0, Questions.Length).Count(IsCorrect);

    /// <summary>What the API must answer, except levelAtTime and cycleNumber, which depend on server state.</summary>
    public string? GradingDifference(SubmitResult result)
    {
        var score = Rules.ScoreBasisPoints(CorrectCount, Track.Questions.Length);
        var decision = Rules.Decide(Track, score, Questions.Length, DurationSec);
        if (result.AttemptId != AttemptId || result.CorrectCount != CorrectCount || result.AnsweredCount != Questions.Length
            || result.ScorePct * 100 != score || result.AutoDecision != decision || result.EventsLogged != Questions.Length)
            return $"expected correct {CorrectCount}/{Questions.Length}, score {score / 100m}%, {decision}, {Questions.Length} events; got {JsonSerializer.Serialize(result)}";
        return null;
    }
}

/// <summary>An attempt the API accepted (its first 202), with the window in which the API stamped its createdAt.</summary>
public sealed record AcceptedAttempt(LoadAttempt Attempt, SubmitResult Result, DateTimeOffset FirstSentAt, DateTimeOffset AcceptedAt, int Phase);

/// <summary>Realistic attempts: tracks of 5–25 questions, most answered in full, learners of varied skill, some implausibly fast.</summary>
public sealed class AttemptGenerator(IReadOnlyList<LoadTrack> loadTracks, int wallets, Random random)
{
    private static readonly string[] Letters = ["A", "B", "C", "D"];
    private readonly double[] _skill = Enumerable.Range(0, wallets).Select(_ => 0.35 + random.NextDouble() * 0.6).ToArray();

    public LoadAttempt Next()
    {
        var wallet = random.Next(wallets);
        var track = loadTracks[random.Next(loadTracks.Count)];
        var size = track.Questions.Length;
        // 80% answer every question; the rest leave some out (an unanswered question scores as wrong).
        var answered = random.NextDouble() < 0.8 ? size : Math.Max(1, (int)Math.Ceiling(size * (0.5 + random.NextDouble() * 0.5)) - 1);
        var questions = Enumerable.Range(0, size).OrderBy(_ => random.Next()).Take(answered).Order().ToArray();
        var selected = questions.Select(q => Answer(track.CorrectAnswers[q], _skill[wallet])).ToArray();
        var duration = random.NextDouble() < 0.05
            ? Math.Max(1, track.MinSecondsPerQuestion * answered - 1 - random.Next(5))
            : Math.Min(14_400, answered * (track.MinSecondsPerQuestion + random.Next(3, 45)));
        return new LoadAttempt(Guid.NewGuid(), wallet, track, duration, questions, selected);
    }

    private string Answer(string correct, double skill)
    {
        if (random.NextDouble() < skill)
            // Now and then the right letter in the wrong case: exact comparison makes it wrong.
            return random.NextDouble() < 0.02 ? correct.ToLowerInvariant() : correct;
        var wrong = Letters.Where(l => l != correct).ToArray();
        return wrong[random.Next(wrong.Length)];
    }
}
