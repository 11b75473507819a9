using Microsoft.AspNetCore.Http.HttpResults;
using Telemetry.StatsApi.Auth;

namespace Telemetry.StatsApi.Stats;

public static class StatsApi
{
    public static RouteGroupBuilder MapStatsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/stats").AddEndpointFilter<ApiKeyFilter>();

        group.MapGet("/tracks", async (StatsQueries queries, CancellationToken ct) =>
            TypedResults.Ok(await queries.TracksAsync(ct)));

        group.MapGet("/questions", async Task<Results<Ok<List<QuestionStats>>, ValidationProblem>> (string? trackId, StatsQueries queries, CancellationToken ct) =>
            Guid.TryParse(trackId, out var id)
                ? TypedResults.Ok(await queries.QuestionsAsync(id, ct))
                : TypedResults.ValidationProblem(new Dictionary<string, string[]>
                {
                    ["trackId"] = [string.IsNullOrEmpty(trackId) ? "trackId is required." : "trackId must be a UUID."],
                }));

        group.MapGet("/cycle/current", async Task<Results<Ok<CycleStats>, ProblemHttpResult>> (StatsQueries queries, TimeProvider clock, CancellationToken ct) =>
            await queries.CycleAtAsync(clock.GetUtcNow(), ct) is { } cycle
                ? TypedResults.Ok(cycle)
                : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No cycle is current", detail: "No cycle's [startsAt, endsAt) contains the current time."));

        return group;
    }
}
