using System.Diagnostics;
using System.Net.Http.Json;
using Npgsql;
using Telemetry.Contracts;
using Telemetry.Database;
using Telemetry.ServiceDefaults;
using Telemetry.Testing;
using Telemetry.Testing.Bench;

namespace Telemetry.Bench.Relay;

/// <summary>
/// bench/run.sh relay: the attempts API's submit rate over real HTTP, its outbox relay's publish rate (while submits
/// arrive, and draining a backlog), and a bare MassTransit publisher's rate for the same number of messages, in the
/// same run, on the same broker and virtual host. Progress goes to stderr, the Markdown report to stdout.
/// </summary>
public static class Program
{
    private const string AdminKey = "bench-admin-key-0123456789abcdef";
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromMinutes(10);

    public static async Task<int> Main(string[] args)
    {
        if (CommandLine.ParseOrExit(args, BenchOptions.Usage, BenchOptions.Parse, out var exitCode) is not { } options)
            return exitCode;

        // WebApplicationFactory reads MvcTestingAppManifest.json (the attempts API's content root) from the working directory.
        Directory.SetCurrentDirectory(AppContext.BaseDirectory);
        var clock = Stopwatch.StartNew();
        await using var database = await TestDatabase.CreateAsync();
        await using var broker = await TestBroker.CreateAsync();
        await using var admin = NpgsqlDataSource.Create(database.AdminConnectionString);
        var settings = new Dictionary<string, string?>(options.RelaySettings())
        {
            ["ConnectionStrings:Telemetry"] = database.ConnectionStringFor(DatabaseRoles.AttemptsApi),
            ["ConnectionStrings:RabbitMq"] = broker.AmqpUri,
            ["Jwt:Issuer"] = TestTokens.Issuer,
            ["Jwt:Audience"] = TestTokens.Audience,
            ["Jwt:SigningKey"] = TestTokens.SigningKey,
            ["AdminAuth:Key"] = AdminKey,
            ["RateLimits:PerWalletBurst"] = "100000",
            ["RateLimits:PerWalletPerMinute"] = "100000",
        };
        await using var api = new AttemptsApiHost(settings);
        var address = api.Start();
        Step($"attempts API listening on {address}");
        var (trackId, questions) = await CreateTrackAsync(address, options.Answers);
        using var submitter = new Submitter(address, trackId, questions, options.Clients);
        await using var bare = await BarePublisher.StartAsync(broker.Address);
        await using var raw = await RawBroker.ConnectAsync(broker.AmqpUri, "relay bench");
        var cpuMeter = await CpuMeter.CreateAsync();
        var outbox = new Outbox(admin);
        var messages = Enumerable.Range(0, options.Attempts)
            .SelectMany(_ => SampleEvents.Attempt(trackId, questions.Select((q, i) => (q, i % 2 == 0)).ToList()))
            .ToList();

        var report = new Report(options);
        async Task WithRelayAsync()
        {
            await outbox.ResetAsync();
            await using (await api.StartRelayAsync())
            {
                var seconds = await submitter.SubmitAsync(options.Attempts);
                report.Add(Report.Accepted, options.Attempts / seconds);
                var (firstCreated, lastSent) = await outbox.WaitUntilSentAsync(options.Events);
                report.Add(Report.RelayLive, options.Events / (lastSent - firstCreated).TotalSeconds);
            }
            await VerifyAndPurgeAsync(raw, options.Events, "relay with submits");
        }
        async Task DrainAsync()
        {
            await outbox.ResetAsync();
            report.Add(Report.AcceptedPaused, options.Attempts / await submitter.SubmitAsync(options.Attempts));
            var started = DateTimeOffset.UtcNow;
            var cpu = cpuMeter.Now();
            await using (await api.StartRelayAsync())
            {
                var (_, lastSent) = await outbox.WaitUntilSentAsync(options.Events);
                report.Add(Report.RelayDrain, options.Events / (lastSent - started).TotalSeconds);
                report.AddCpu(Report.RelayDrain, cpuMeter.Now() - cpu, options.Events);
            }
            await VerifyAndPurgeAsync(raw, options.Events, "relay drain");
        }
        async Task BareAsync()
        {
            var cpu = cpuMeter.Now();
            report.Add(Report.Bare, options.Events / await bare.PublishAsync(messages, options.Relay.Workers, options.Relay.BatchSize));
            report.AddCpu(Report.Bare, cpuMeter.Now() - cpu, options.Events);
            await VerifyAndPurgeAsync(raw, options.Events, "bare publish");
        }

        Step("warm-up (not reported)");
        await WithRelayAsync();
        await DrainAsync();
        await BareAsync();
        report.Clear();
        for (var round = 1; round <= options.Rounds; round++)
        {
            Step($"round {round}/{options.Rounds}: {options.Attempts:N0} attempts, {options.Events:N0} events per measurement");
            // Alternate the order, so neither side always runs on a warmer (or busier) machine.
            if (round % 2 == 1)
            {
                await WithRelayAsync();
                await DrainAsync();
                await BareAsync();
            }
            else
            {
                await BareAsync();
                await DrainAsync();
                await WithRelayAsync();
            }
            Step($"  {report.Last()}");
        }

        report.Print();
        Console.Error.WriteLine($"[bench] done in {clock.Elapsed.TotalSeconds:N0}s");
        return 0;
    }

    private static async Task<(Guid TrackId, Guid[] Questions)> CreateTrackAsync(Uri api, int questions)
    {
        var trackId = Guid.NewGuid();
        var ids = Enumerable.Range(0, questions).Select(_ => Guid.NewGuid()).ToArray();
        using var client = new HttpClient { BaseAddress = api };
        client.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);
        var response = await client.PutAsJsonAsync($"/api/admin/tracks/{trackId}", new
        {
            title = "Relay benchmark",
            passThresholdPct = 60,
            questions = ids.Select((id, i) => new { questionId = id, correctAnswer = $"answer-{i}" }),
        });
        response.EnsureSuccessStatusCode();
        return (trackId, ids);
    }

    /// <summary>
    /// No consumer runs here: fails unless every queue bound to AnswerSubmitted holds exactly <paramref name="expected"/>
    /// messages, then empties them for the next measurement.
    /// </summary>
    private static async Task VerifyAndPurgeAsync(RawBroker raw, long expected, string what)
    {
        foreach (var queue in TopologyDeployer.ConsumerQueues)
        {
            var depth = await raw.ReadyAsync(queue);
            if (depth != expected)
                throw new InvalidOperationException($"{what}: queue '{queue}' holds {depth:N0} messages, expected {expected:N0}.");
            await raw.PurgeAsync(queue);
        }
    }

    private static void Step(string message) => Console.Error.WriteLine($"[bench] {message}");

    /// <summary>The outbox table, read as the database owner.</summary>
    private sealed class Outbox(NpgsqlDataSource admin)
    {
        public async Task ResetAsync()
        {
            await using var command = admin.CreateCommand("TRUNCATE outbox_messages, attempts");
            await command.ExecuteNonQueryAsync();
        }

        /// <summary>Waits until all <paramref name="expected"/> rows are marked sent; returns the first row's creation and the last row's marking.</summary>
        public async Task<(DateTimeOffset FirstCreated, DateTimeOffset LastSent)> WaitUntilSentAsync(long expected)
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                await using var command = admin.CreateCommand(
                    "SELECT count(*), count(*) FILTER (WHERE sent_at IS NULL), min(created_at), max(sent_at) FROM outbox_messages");
                await using var reader = await command.ExecuteReaderAsync();
                await reader.ReadAsync();
                var (rows, unsent) = (reader.GetInt64(0), reader.GetInt64(1));
                if (rows == expected && unsent == 0)
                    return (reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3));
                if (deadline.Elapsed > DrainTimeout)
                    throw new TimeoutException($"The relay left {unsent:N0} of {rows:N0} outbox rows unsent after {DrainTimeout.TotalMinutes:N0} minutes.");
                await Task.Delay(20);
            }
        }
    }
}
