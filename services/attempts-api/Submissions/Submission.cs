using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Telemetry.AttemptsApi.Catalogue;
using Telemetry.AttemptsApi.Http;

namespace Telemetry.AttemptsApi.Submissions;

/// <summary>The body of POST /api/train-attempts/submit as sent; ids are strings so a malformed one gets a clear error.</summary>
public sealed record SubmitRequest(string? AttemptId, string? TrackId, int? DurationSec, List<SubmittedAnswer?>? Answers);

public sealed record SubmittedAnswer(string? QuestionId, string? SelectedAnswer);

public readonly record struct Answer(Guid QuestionId, string SelectedAnswer);

/// <summary>A submission that passed the checks needing no catalogue.</summary>
public sealed record Submission(Guid AttemptId, Guid TrackId, int DurationSec, IReadOnlyList<Answer> Answers)
{
    /// <summary>
    /// What makes a replay "the same body": wallet, track, duration and the set of (question, answer) pairs, in any
    /// order. A SHA-256 over a length-prefixed canonical form, stored with the attempt.
    /// </summary>
    public byte[] Fingerprint(string wallet)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var scratch = new byte[16];
        void Text(string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            BinaryPrimitives.WriteInt32BigEndian(scratch, bytes.Length);
            hash.AppendData(scratch, 0, 4);
            hash.AppendData(bytes);
        }
        void Id(Guid id)
        {
            id.TryWriteBytes(scratch, bigEndian: true, out _);
            hash.AppendData(scratch);
        }

        Text(wallet);
        Id(TrackId);
        BinaryPrimitives.WriteInt32BigEndian(scratch, DurationSec);
        hash.AppendData(scratch, 0, 4);
        foreach (var answer in Answers.OrderBy(a => a.QuestionId))
        {
            Id(answer.QuestionId);
            Text(answer.SelectedAnswer);
        }
        return hash.GetHashAndReset();
    }
}

/// <summary>A track as the grader needs it.</summary>
public sealed record GradingTrack(Guid TrackId, ReviewRules Rules, IReadOnlyDictionary<Guid, string> CorrectAnswers);

public static class SubmissionValidator
{
    /// <summary>The checks that need no database; null (with errors recorded) when any fails.</summary>
    public static Submission? Validate(SubmitRequest request, RequestLimits limits, ValidationErrors errors)
    {
        var attemptId = errors.Uuid("attemptId", request.AttemptId);
        var trackId = errors.Uuid("trackId", request.TrackId);
        var duration = errors.Number("durationSec", request.DurationSec, 1, limits.MaxDurationSec);

        var answers = new List<Answer>();
        if (request.Answers is null)
            errors.Add("answers", "is required.");
        else if (request.Answers.Count == 0)
            errors.Add("answers", "must contain at least one answer.");
        else if (request.Answers.Count > CatalogueLimits.MaxQuestionsPerTrack)
            errors.Add("answers", $"must contain at most {CatalogueLimits.MaxQuestionsPerTrack} answers.");
        else
            answers = ValidateAnswers(request.Answers, errors);

        return errors.IsEmpty ? new Submission(attemptId, trackId, duration, answers) : null;
    }

    private static List<Answer> ValidateAnswers(List<SubmittedAnswer?> submitted, ValidationErrors errors)
    {
        var answers = new List<Answer>(submitted.Count);
        var firstIndexOf = new Dictionary<Guid, int>();
        for (var i = 0; i < submitted.Count; i++)
        {
            var field = $"answers[{i}]";
            if (submitted[i] is not { } answer)
            {
                errors.Add(field, "must be an object with questionId and selectedAnswer.");
                continue;
            }
            var questionId = errors.Uuid($"{field}.questionId", answer.QuestionId);
            var selected = errors.Text($"{field}.selectedAnswer", answer.SelectedAnswer, CatalogueLimits.MaxAnswerLength);
            if (questionId == Guid.Empty)
                continue;
            if (!firstIndexOf.TryAdd(questionId, i))
                errors.Add($"{field}.questionId", $"duplicates answers[{firstIndexOf[questionId]}].questionId: answer each question once.");
            answers.Add(new Answer(questionId, selected));
        }
        return answers;
    }

    /// <summary>The checks against the track's question bank.</summary>
    public static void ValidateAgainst(Submission submission, GradingTrack track, ValidationErrors errors)
    {
        if (submission.Answers.Count > track.CorrectAnswers.Count)
            errors.Add("answers", $"has {submission.Answers.Count} answers but the track has only {track.CorrectAnswers.Count} questions.");
        for (var i = 0; i < submission.Answers.Count; i++)
            if (!track.CorrectAnswers.ContainsKey(submission.Answers[i].QuestionId))
                errors.Add($"answers[{i}].questionId", "is not a question of this track.");
    }
}
