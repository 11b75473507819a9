using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using Telemetry.AttemptsApi.Auth;
using Telemetry.AttemptsApi.Data;
using Telemetry.AttemptsApi.Http;
using Telemetry.AttemptsApi.Submissions;

namespace Telemetry.AttemptsApi.Catalogue;

/// <summary>The catalogue and the cycle calendar, for operators holding the X-Admin-Key credential.</summary>
public static class AdminApi
{
    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin")
            .RequireAuthorization(AuthPolicies.Admin)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithTags("Admin");
        group.MapGet("/tracks", ListTracksAsync)
            .WithName("ListTracks")
            .WithSummary("Every track, without its questions");
        group.MapGet("/tracks/{trackId}", GetTrackAsync)
            .WithName("GetTrack")
            .WithSummary("One track with its questions")
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status404NotFound);
        group.MapPut("/tracks/{trackId}", PutTrackAsync)
            .WithName("PutTrack")
            .WithSummary("Create (201) or replace (200) a track and its whole question list")
            .WithDescription("A question id belongs to one track: one already used by another track is a 409 naming it.")
            .Accepts<TrackRequest>("application/json")
            .WithBodyProblems();
        group.MapGet("/cycles", ListCyclesAsync)
            .WithName("ListCycles")
            .WithSummary("The cycle calendar");
        group.MapPut("/cycles/{cycleNumber}", PutCycleAsync)
            .WithName("PutCycle")
            .WithSummary("Create (201) or move (200) a cycle")
            .WithDescription("Cycles are [startsAt, endsAt) and never overlap: an overlap is a 409 naming the cycle in the way.")
            .Accepts<CycleRequest>("application/json")
            .WithBodyProblems();
        return group;
    }

    private static async Task<Ok<IReadOnlyList<TrackSummary>>> ListTracksAsync(CatalogueStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.ListTracksAsync(cancellationToken));

    private static async Task<Results<Ok<TrackResponse>, ProblemHttpResult>> GetTrackAsync(string trackId, CatalogueStore store, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var id = errors.Uuid("trackId", trackId);
        if (!errors.IsEmpty)
            return Problems.Validation(errors);
        return await store.GetTrackAsync(id, cancellationToken) is { } track
            ? TypedResults.Ok(track)
            : Problems.Field(StatusCodes.Status404NotFound, "Unknown track", "trackId", "No track has this id.");
    }

    /// <summary>Creates (201) or replaces (200) a track, its review settings and its whole question list.</summary>
    private static async Task<Results<Created<TrackResponse>, Ok<TrackResponse>, ProblemHttpResult>> PutTrackAsync(
        string trackId,
        HttpRequest request,
        CatalogueStore store,
        TimeProvider clock,
        IOptions<RequestLimits> limits,
        CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<TrackRequest>(request, limits.Value.AdminBodyBytes, cancellationToken);
        if (body.Problem is { } unreadable)
            return unreadable;
        var errors = new ValidationErrors();
        var id = errors.Uuid("trackId", trackId);
        if (Track.Validate(id, body.Value!, errors) is not { } track)
            return Problems.Validation(errors);

        var owned = await store.QuestionsOwnedElsewhereAsync(track, cancellationToken);
        for (var i = 0; i < track.Questions.Count; i++)
            if (owned.Contains(track.Questions[i].QuestionId))
                errors.Add($"questions[{i}].questionId", "already belongs to another track.");
        if (!errors.IsEmpty)
            return QuestionConflict(errors);

        var now = clock.GetUtcNow();
        bool created;
        try
        {
            created = await store.UpsertTrackAsync(track, now, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Another track took one of these question ids since the check above.
            errors.Add("questions", "a question id already belongs to another track.");
            return QuestionConflict(errors);
        }
        var response = track.ToResponse(now);
        return created ? TypedResults.Created($"/api/admin/tracks/{track.TrackId}", response) : TypedResults.Ok(response);
    }

    private static async Task<Ok<IReadOnlyList<Cycle>>> ListCyclesAsync(CatalogueStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.ListCyclesAsync(cancellationToken));

    /// <summary>Creates (201) or moves (200) a cycle; cycles never overlap (409 names the one in the way).</summary>
    private static async Task<Results<Created<Cycle>, Ok<Cycle>, ProblemHttpResult>> PutCycleAsync(
        string cycleNumber,
        HttpRequest request,
        CatalogueStore store,
        TimeProvider clock,
        IOptions<RequestLimits> limits,
        CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<CycleRequest>(request, limits.Value.AdminBodyBytes, cancellationToken);
        if (body.Problem is { } unreadable)
            return unreadable;
        var errors = new ValidationErrors();
        if (!int.TryParse(cycleNumber, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) || number < 1)
            errors.Add("cycleNumber", "must be a whole number of at least 1.");
        var (startsAt, endsAt) = (body.Value!.StartsAt, body.Value.EndsAt);
        if (startsAt is null)
            errors.Add("startsAt", "is required.");
        if (endsAt is null)
            errors.Add("endsAt", "is required.");
        else if (startsAt is not null && endsAt <= startsAt)
            errors.Add("endsAt", "must be after startsAt.");
        if (!errors.IsEmpty)
            return Problems.Validation(errors);

        var cycle = new Cycle(number, startsAt!.Value.ToUniversalTime(), endsAt!.Value.ToUniversalTime(), clock.GetUtcNow());
        try
        {
            var created = await store.UpsertCycleAsync(cycle, cancellationToken);
            return created ? TypedResults.Created($"/api/admin/cycles/{number}", cycle) : TypedResults.Ok(cycle);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ExclusionViolation)
        {
            var other = await store.FindOverlappingCycleAsync(cycle, cancellationToken);
            var message = other is null
                ? "overlaps another cycle."
                : $"overlaps cycle {other.CycleNumber} ({other.StartsAt:O} to {other.EndsAt:O}).";
            errors.Add("startsAt", message);
            errors.Add("endsAt", message);
            return Problems.Fields(StatusCodes.Status409Conflict, "Cycles overlap", errors);
        }
    }

    private static RouteHandlerBuilder WithBodyProblems(this RouteHandlerBuilder endpoint) => endpoint
        .ProducesValidationProblem()
        .ProducesValidationProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

    private static ProblemHttpResult QuestionConflict(ValidationErrors errors) =>
        Problems.Fields(StatusCodes.Status409Conflict, "Question ids already in use", errors);
}
