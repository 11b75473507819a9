using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Telemetry.StatsApi.Auth;
using Telemetry.StatsApi.Http;

namespace Telemetry.StatsApi.Stats;

/// <summary>
/// Read-only statistics for dashboards. Bodies are plain JSON arrays or objects; everything about the response itself
/// travels in headers: X-Data-As-Of / Last-Modified (the newest aggregator flush the data includes), ETag (304 on a
/// matching If-None-Match), Cache-Control and, for question pages, Link rel="next".
/// </summary>
public static class StatsApi
{
    public const int MaxDailyRangeDays = 366;
    public const int DefaultQuestionsPageSize = 500;
    public const int MaxQuestionsPageSize = 1000;

    public static RouteGroupBuilder MapStatsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/stats")
            .RequireAuthorization(ApiKeyAuthenticationHandler.PolicyName)
            .RequireRateLimiting(PerKeyRateLimitPolicy.Name)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithTags("Statistics");

        group.MapGet("/tracks", GetTracksAsync)
            .WithName("GetTracks")
            .WithSummary("Every track's totals");
        group.MapGet("/tracks/{trackId}", GetTrackAsync)
            .WithName("GetTrack")
            .WithSummary("One track's totals")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/tracks/{trackId}/daily", GetTrackDaysAsync)
            .WithName("GetTrackDaily")
            .WithSummary("One track's totals per UTC day")
            .WithDescription($"Every day from `from` to `to` (inclusive, at most {MaxDailyRangeDays} days) in order, by the day of the " +
                "answers' createdAt; days without data are included with zero totals and a null lastCalculatedAt.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/questions", GetQuestionsAsync)
            .WithName("GetQuestions")
            .WithSummary("A track's per-question totals, in pages")
            .WithDescription($"Questions in questionId order, at most `limit` (default {DefaultQuestionsPageSize}, " +
                $"max {MaxQuestionsPageSize}) per page. When more follow, the Link header holds the next page's URL " +
                "(rel=\"next\"); pass its `cursor` on. An unknown track has no questions: an empty array.");
        group.MapGet("/cycle/current", GetCurrentCycleAsync)
            .WithName("GetCurrentCycle")
            .WithSummary("The current cycle's totals")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/cycles/{cycleNumber}", GetCycleAsync)
            .WithName("GetCycle")
            .WithSummary("One cycle's totals")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<JsonSnapshot<List<TrackStats>>> GetTracksAsync(SnapshotCache cache, StatsQueries queries, CancellationToken ct) =>
        new(await cache.GetAsync("tracks", queries.TracksAsync, ct));

    private static async Task<Results<JsonSnapshot<TrackStats>, ProblemHttpResult, ValidationProblem>> GetTrackAsync(
        [Description("The track's id (a UUID).")] string trackId,
        HttpResponse response, SnapshotCache cache, StatsQueries queries, CancellationToken ct)
    {
        var parameters = new StatsParameters();
        var id = parameters.Uuid(nameof(trackId), trackId);
        if (parameters.Errors is { } errors)
            return TypedResults.ValidationProblem(errors);
        var snapshot = await cache.GetAsync($"track:{id}", token => queries.TrackAsync(id, token), ct);
        return snapshot.Body is null ? UnknownTrack(response, snapshot, id) : new JsonSnapshot<TrackStats>(snapshot);
    }

    private static async Task<Results<JsonSnapshot<List<TrackDayStats>>, ProblemHttpResult, ValidationProblem>> GetTrackDaysAsync(
        [Description("The track's id (a UUID).")] string trackId,
        [FromQuery, Description("First UTC day, YYYY-MM-DD.")] string? from,
        [FromQuery, Description($"Last UTC day, YYYY-MM-DD (inclusive).")] string? to,
        HttpResponse response, SnapshotCache cache, StatsQueries queries, CancellationToken ct)
    {
        var parameters = new StatsParameters();
        var id = parameters.Uuid(nameof(trackId), trackId);
        var (first, last) = parameters.DayRange(from, to, MaxDailyRangeDays);
        if (parameters.Errors is { } errors)
            return TypedResults.ValidationProblem(errors);
        var snapshot = await cache.GetAsync($"daily:{id}:{first:yyyy-MM-dd}:{last:yyyy-MM-dd}", token => queries.TrackDaysAsync(id, first, last, token), ct);
        return snapshot.Body is null ? UnknownTrack(response, snapshot, id) : new JsonSnapshot<List<TrackDayStats>>(snapshot);
    }

    private static async Task<Results<JsonSnapshot<List<QuestionStats>>, ValidationProblem>> GetQuestionsAsync(
        [FromQuery, Description("The track's id (a UUID).")] string? trackId,
        [FromQuery, Description("Questions per page.")] string? limit,
        [FromQuery, Description("Where the page starts: the cursor from the previous page's Link header.")] string? cursor,
        HttpRequest request, SnapshotCache cache, StatsQueries queries, CancellationToken ct)
    {
        var parameters = new StatsParameters();
        var id = parameters.Uuid(nameof(trackId), trackId);
        var pageSize = parameters.OptionalInteger(nameof(limit), limit, 1, MaxQuestionsPageSize, DefaultQuestionsPageSize);
        var after = parameters.OptionalUuid(nameof(cursor), cursor);
        if (parameters.Errors is { } errors)
            return TypedResults.ValidationProblem(errors);
        var snapshot = await cache.GetAsync($"questions:{id}:{pageSize}:{after}", token => queries.QuestionsAsync(id, after, pageSize, token), ct);
        if (snapshot.NextCursor is { } next)
            request.HttpContext.Response.Headers.Link =
                $"<{request.PathBase}{request.Path}?trackId={id}&limit={pageSize}&cursor={Uri.EscapeDataString(next)}>; rel=\"next\"";
        return new JsonSnapshot<List<QuestionStats>>(snapshot);
    }

    private static async Task<Results<JsonSnapshot<CycleStats>, ProblemHttpResult>> GetCurrentCycleAsync(
        HttpResponse response, SnapshotCache cache, StatsQueries queries, TimeProvider clock, CancellationToken ct)
    {
        var snapshot = await cache.GetAsync("cycle:current", token => queries.CycleAtAsync(clock.GetUtcNow(), token), ct);
        return snapshot.Body is null
            ? NotFound(response, snapshot, "No cycle is current", "No cycle's [startsAt, endsAt) contains the current time.")
            : new JsonSnapshot<CycleStats>(snapshot);
    }

    private static async Task<Results<JsonSnapshot<CycleStats>, ProblemHttpResult, ValidationProblem>> GetCycleAsync(
        [Description("The cycle's number (1 or more).")] string cycleNumber,
        HttpResponse response, SnapshotCache cache, StatsQueries queries, CancellationToken ct)
    {
        var parameters = new StatsParameters();
        var number = parameters.Integer(nameof(cycleNumber), cycleNumber, 1, int.MaxValue);
        if (parameters.Errors is { } errors)
            return TypedResults.ValidationProblem(errors);
        var snapshot = await cache.GetAsync($"cycle:{number}", token => queries.CycleAsync(number, token), ct);
        return snapshot.Body is null
            ? NotFound(response, snapshot, "Unknown cycle", $"There is no cycle {number}.")
            : new JsonSnapshot<CycleStats>(snapshot);
    }

    private static ProblemHttpResult UnknownTrack(HttpResponse response, Snapshot snapshot, Guid trackId) =>
        NotFound(response, snapshot, "Unknown track", $"No attempt at track {trackId} has been aggregated.");

    /// <summary>A 404 is an answer about the data too, so it says as of when.</summary>
    private static ProblemHttpResult NotFound(HttpResponse response, Snapshot snapshot, string title, string detail)
    {
        snapshot.ApplyFreshness(response);
        return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: title, detail: detail);
    }
}
