using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Telemetry.AttemptsApi.Auth;
using Telemetry.AttemptsApi.Data;
using Telemetry.AttemptsApi.Http;
using Telemetry.AttemptsApi.Outbox;

namespace Telemetry.AttemptsApi.Submissions;

public static class SubmitEndpoint
{
    public static RouteGroupBuilder MapSubmitEndpoint(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/train-attempts")
            .RequireAuthorization(AuthPolicies.Learner)
            .RequireRateLimiting(WalletRateLimitPolicy.Name)
            .WithTags("Submissions");
        group.MapPost("/submit", SubmitAsync)
            .WithName("SubmitAttempt")
            .WithSummary("Grade and store an attempt")
            .WithDescription("The attemptId is the idempotency key: the same body again answers the stored result (202) and " +
                "writes nothing; another body under the same attemptId is a 409. The wallet comes from the bearer token.")
            .Accepts<SubmitRequest>("application/json")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesValidationProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    /// <summary>
    /// Grades and stores an attempt with one outbox row per answer, in one transaction, and answers 202. The attemptId
    /// is the idempotency key: the same body again answers the stored result and writes nothing; another body, 409.
    /// </summary>
    private static async Task<Results<Accepted<SubmitResponse>, ProblemHttpResult>> SubmitAsync(
        HttpContext http,
        SubmissionStore store,
        OutboxSignal outbox,
        TimeProvider clock,
        AttemptsMetrics metrics,
        IOptions<RequestLimits> limits,
        IOptions<Levels> levels,
        CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<SubmitRequest>(http.Request, limits.Value.SubmitBodyBytes, cancellationToken);
        if (body.Problem is { } unreadable)
            return unreadable;
        var errors = new ValidationErrors();
        if (SubmissionValidator.Validate(body.Value!, limits.Value, errors) is not { } submission)
            return Problems.Validation(errors);

        var wallet = http.User.FindFirstValue(AttemptsClaims.Wallet)!;
        var fingerprint = submission.Fingerprint(wallet);
        var now = AttemptRecord.Timestamp(clock.GetUtcNow());

        await using var session = await store.BeginAsync(wallet, submission, now, cancellationToken);
        if (session.Existing is { } existing)
            return existing.RequestHash.AsSpan().SequenceEqual(fingerprint) ? Accepted(existing) : Conflict();
        if (session.Track is not { } track)
            return Problems.Field(StatusCodes.Status404NotFound, "Unknown track", "trackId", "No track has this id.");
        SubmissionValidator.ValidateAgainst(submission, track, errors);
        if (!errors.IsEmpty)
            return Problems.Validation(errors);

        var grade = Grader.Grade(track, submission.Answers, submission.DurationSec);
        var attempt = new AttemptRecord(
            submission.AttemptId, wallet, submission.TrackId, fingerprint, submission.DurationSec, grade.AnsweredCount,
            grade.CorrectCount, grade.ScoreBasisPoints, grade.AutoDecision, session.Learner.Level, session.CurrentCycle, now);
        var learnerAfter = Grader.After(session.Learner, grade.AutoDecision, levels.Value);

        if (!await session.CommitAsync(attempt, attempt.ToEvents(submission, track), learnerAfter, cancellationToken))
            return Conflict();
        outbox.Notify();
        metrics.AttemptAccepted(grade.AutoDecision);
        return Accepted(attempt);
    }

    private static Accepted<SubmitResponse> Accepted(AttemptRecord attempt) => TypedResults.Accepted((string?)null, attempt.ToResponse());

    private static ProblemHttpResult Conflict() =>
        Problems.Field(StatusCodes.Status409Conflict, "Attempt already submitted", "attemptId",
            "This attemptId was already submitted with a different body (or by another wallet).");
}
