using Microsoft.AspNetCore.Builder;
using Telemetry.Database;
using Telemetry.Testing;
using Telemetry.Testing.Bench;
using StatsApiProgram = Telemetry.StatsApi.Program;

namespace Telemetry.Bench.Stats;

/// <summary>
/// bench/run.sh stats: the real stats API on Kestrel (loopback, its own process settings, telemetry role, a seeded
/// catalogue) against a bare Kestrel endpoint serving the same bytes, for /api/stats/tracks and /api/stats/questions,
/// driven by the same closed-loop client in this process. Progress goes to stderr, the Markdown report to stdout.
/// </summary>
public static class Program
{
    private const string ApiKey = "bench-dashboard-key-0123456789abcdef";

    public static async Task<int> Main(string[] args)
    {
        if (CommandLine.ParseOrExit(args, BenchOptions.Usage, BenchOptions.Parse, out var exitCode) is not { } options)
            return exitCode;

        Step($"seeding {options.Tracks} tracks × {options.Questions} questions of aggregates");
        await using var database = await TestDatabase.CreateAsync();
        await SeedAsync(database, options);
        var tracks = await TrackIdsAsync(database);

        var api = StatsApiProgram.Build(ApiArguments(database, options));
        await api.StartAsync();
        using var apiClient = LoadGenerator.CreateClient(new Uri(api.Urls.First()), options.Workers, ApiKey);
        var questionsPath = (long n) => $"/api/stats/questions?trackId={tracks[(int)(n % tracks.Count)]}";
        var tracksBody = await apiClient.GetByteArrayAsync("/api/stats/tracks");
        var questionsBody = await apiClient.GetByteArrayAsync(questionsPath(0));

        var bare = BareServer.Build(new Dictionary<string, byte[]> { ["/bare/tracks"] = tracksBody, ["/bare/questions"] = questionsBody });
        await bare.StartAsync();
        using var bareClient = LoadGenerator.CreateClient(new Uri(bare.Urls.First()), options.Workers, ApiKey);

        Endpoint[] endpoints =
        [
            new("tracks", "/api/stats/tracks", tracksBody.Length, _ => "/api/stats/tracks", _ => "/bare/tracks"),
            new("questions", "/api/stats/questions?trackId=…", questionsBody.Length, questionsPath,
                n => $"/bare/questions?trackId={tracks[(int)(n % tracks.Count)]}"),
        ];
        endpoints = endpoints.Where(e => options.Only is null || e.Key == options.Only).ToArray();
        var report = new Report(options);
        var (warmup, duration) = (TimeSpan.FromSeconds(options.WarmupSeconds), TimeSpan.FromSeconds(options.Seconds));
        for (var round = 1; round <= options.Rounds; round++)
        {
            foreach (var endpoint in endpoints)
            {
                // Alternate which server goes first, so neither always runs on a warmer (or hotter) machine.
                (string Server, HttpClient Client, Func<long, string> Path)[] passes =
                [
                    (Report.Api, apiClient, endpoint.ApiPath),
                    (Report.Bare, bareClient, endpoint.BarePath),
                ];
                if (round % 2 == 0)
                    Array.Reverse(passes);
                foreach (var (server, client, path) in passes)
                {
                    Step($"round {round}/{options.Rounds}: {server} {endpoint.Name}, {options.Workers} workers, {options.Seconds} s");
                    report.Add(endpoint, server, await LoadGenerator.RunAsync(client, path, options.Workers, warmup, duration));
                }
            }
        }

        await bare.StopAsync();
        await api.StopAsync();
        await bare.DisposeAsync();
        await api.DisposeAsync();
        report.Print();
        return report.Failures == 0 ? 0 : 1;
    }

    private static string[] ApiArguments(TestDatabase database, BenchOptions options)
    {
        List<string> arguments =
        [
            "--urls=http://127.0.0.1:0",
            $"--ConnectionStrings:Telemetry={database.ConnectionStringFor(DatabaseRoles.StatsApi)}",
            // The limiter still runs on every request; it just never refuses the benchmark's single key.
            "--StatsApiOptions:PermitsPerSecond=1000000",
            "--StatsApiOptions:Burst=1000000",
            // The service logs nothing per request at its defaults; this keeps its start-up lines out of the report.
            "--Logging:LogLevel:Default=Warning",
        ];
        if (options.CacheMilliseconds is { } cache)
            arguments.Add($"--StatsApiOptions:ResponseCacheDuration={TimeSpan.FromMilliseconds(cache):c}");
        return [.. arguments];
    }

    /// <summary>Realistic, distinct numbers per row, so every body is as large as a real one.</summary>
    private static Task SeedAsync(TestDatabase database, BenchOptions options) =>
        database.ExecuteAsync($"""
            INSERT INTO track_aggregates (track_id, attempts_total, answers_total, correct_total, duration_sum_sec, last_calculated_at)
            SELECT md5('track' || t)::uuid, 1000 + 37 * t, (1000 + 37 * t) * {options.Questions}, (1000 + 37 * t) * {options.Questions} * (50 + t % 40) / 100,
                   (1000 + 37 * t) * (60 + t % 300), now() - make_interval(secs => t)
            FROM generate_series(1, {options.Tracks}) AS t;
            INSERT INTO question_aggregates (question_id, track_id, attempts_total, correct_total, duration_sum_sec, last_calculated_at)
            SELECT md5('question' || t || ':' || q)::uuid, md5('track' || t)::uuid, 1000 + 37 * t + q, (1000 + 37 * t + q) * (30 + (t * q) % 65) / 100,
                   (1000 + 37 * t + q) * (60 + q), now() - make_interval(secs => q)
            FROM generate_series(1, {options.Tracks}) AS t, generate_series(1, {options.Questions}) AS q;
            INSERT INTO rollup_state (instance, last_flush_at, events_applied) VALUES ('aggregator@bench', now(), 1);
            INSERT INTO dashboard_api_keys (name, sha256) VALUES ('bench', sha256(convert_to('{ApiKey}', 'UTF8')));
            """);

    private static async Task<List<Guid>> TrackIdsAsync(TestDatabase database)
    {
        var ids = await database.ScalarAsync<string>("SELECT string_agg(track_id::text, ',' ORDER BY track_id) FROM track_aggregates");
        return ids.Split(',').Select(Guid.Parse).ToList();
    }

    private static void Step(string message) => Console.Error.WriteLine($"[bench] {DateTime.UtcNow:HH:mm:ss} {message}");
}

/// <summary>One measured endpoint: how its requests look on the API and on the bare server.</summary>
public sealed record Endpoint(string Key, string Name, int BodyBytes, Func<long, string> ApiPath, Func<long, string> BarePath);
