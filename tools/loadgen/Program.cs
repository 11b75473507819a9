using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Npgsql;
using Telemetry.Testing.Bench;

namespace Telemetry.LoadGen;

/// <summary>
/// tools/loadgen/run.sh: drives the running local stack (deploy/local/up.sh) like the frontend, then checks that
/// answer_events and every aggregate of the run's own tracks and cycles equal what was accepted, and reports rates,
/// freshness, peak memory and the bare transport's rate from the same run. Progress goes to stderr, the report to
/// stdout and to results/loadtest-&lt;timestamp&gt;.md.
/// </summary>
public static class Program
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();

    public static async Task<int> Main(string[] args)
    {
        if (CommandLine.ParseOrExit(args, LoadOptions.Usage, LoadOptions.Parse, out var exitCode) is not { } options)
            return exitCode;
        try
        {
            return await RunAsync(options);
        }
        catch (InvalidOperationException ex)
        {
            Say($"ERROR: {ex.Message}");
            return 1;
        }
    }

    private static async Task<int> RunAsync(LoadOptions options)
    {
        var stack = LocalStack.Load(options.LocalDir);
        var started = DateTimeOffset.UtcNow;
        var runId = started.ToString("yyyyMMdd-HHmmss");
        var random = new Random(options.Seed);
        var loadBefore = File.ReadAllText("/proc/loadavg").Trim();
        foreach (var service in LocalStack.Services)
            if (stack.Pid(service) is null)
                throw new InvalidOperationException($"{service} is not running (no live pid in {stack.LocalDir}/pids): run deploy/local/up.sh");

        using var attemptsHttp = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.MaxInFlight + 8, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        { BaseAddress = stack.AttemptsUrl, Timeout = TimeSpan.FromSeconds(30) };
        using var statsHttp = new HttpClient { BaseAddress = stack.StatsUrl, Timeout = TimeSpan.FromSeconds(10) };
        using var management = stack.ManagementClient();
        foreach (var (http, name) in new[] { (attemptsHttp, "attempts-api"), (statsHttp, "stats-api") })
            if ((await http.GetAsync("health/ready")).StatusCode != HttpStatusCode.OK)
                throw new InvalidOperationException($"{name} is not ready");
        await using var database = NpgsqlDataSource.Create(stack.DatabaseConnectionString);
        var flushInterval = stack.AggregatorFlushInterval();
        var scale = LocalStack.Services.ToDictionary(s => s, s => stack.Replicas(s).Count);
        using var metricsHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };

        var tracks = Catalogue.Plan(options.Tracks, runId, random);
        var loadTracks = tracks.Where(t => !t.IsProbe).ToList();
        var probeTrack = tracks.Single(t => t.IsProbe);
        Say($"run {runId}, seed {options.Seed}: {options.Rate:N0} attempts/s for {options.Duration.TotalSeconds:N0}s"
            + (options.HalfRateDuration > TimeSpan.Zero ? $", then {options.Rate / 2:N0}/s for {options.HalfRateDuration.TotalSeconds:N0}s" : "")
            + $"; {options.WalletCount:N0} wallets, {loadTracks.Count} tracks ({string.Join(", ", loadTracks.Select(t => t.Questions.Length))} questions) + a probe track; aggregator flush {flushInterval.TotalSeconds:N1}s"
            + $"; processes: {string.Join(", ", scale.Select(kv => $"{kv.Key} ×{kv.Value}"))}");
        await Catalogue.CreateTracksAsync(attemptsHttp, stack.AdminKey, tracks);
        var cycles = await Catalogue.CreateCyclesAsync(attemptsHttp, stack.AdminKey, options.Duration + options.HalfRateDuration, Say);
        Say($"created {tracks.Count} tracks and cycles {string.Join(", ", cycles.Select(c => $"{c.CycleNumber} ({c.StartsAt:HH:mm:ss} → {c.EndsAt:u})"))}");

        const int probeWalletCount = 5;
        var wallets = Enumerable.Range(0, options.WalletCount + probeWalletCount).Select(_ => "0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20))).ToArray();
        var tokens = wallets.Select(w => Tokens.For(stack, w, TimeSpan.FromHours(12))).ToArray();
        var peakReset = stack.AllReplicas().All(r => ProcessStats.ResetPeak(r.Pid));
        var workBefore = await ReplicaWork.TakeAsync(stack, database, metricsHttp);

        var counters = new Counters();
        var driver = new Driver(attemptsHttp, tokens, counters, Say);
        var probes = new Probes(driver, statsHttp, stack.StatsApiKey, probeTrack,
            Enumerable.Range(options.WalletCount, probeWalletCount).ToArray(), options.ProbeInterval, options.ProbePoll) { Phase = 1 };
        var view = new PipelineView(database, tracks.Select(t => t.TrackId).ToArray(), started.AddMinutes(-1));
        var monitor = new Monitor(stack, view, counters, probes, management, Say);
        var generator = new AttemptGenerator(loadTracks, options.WalletCount, random);

        using var stopMonitor = new CancellationTokenSource();
        using var stopProbes = new CancellationTokenSource();
        using var stopPolling = new CancellationTokenSource();
        var monitoring = monitor.RunAsync(options.Progress, stopMonitor.Token);
        var probing = probes.SendAsync(stopProbes.Token);
        var polling = probes.PollAsync(stopPolling.Token);

        var phases = new List<PhaseResult>();
        var plan = new List<(double Rate, TimeSpan Duration)> { (options.Rate, options.Duration) };
        if (options.HalfRateDuration > TimeSpan.Zero)
            plan.Add((options.Rate / 2, options.HalfRateDuration));
        for (var p = 0; p < plan.Count; p++)
        {
            var phase = p + 1;
            probes.Phase = phase;
            monitor.NewPhase();
            var (rate, duration) = plan[p];
            Say($"── phase {phase}: {rate:N0} new attempts/s for {duration.TotalSeconds:N0}s (+{options.RetryShare:P0} resent later, {options.DuplicateShare:P0} sent twice at once)");
            var cpuBefore = CpuSnapshot.Take(stack);
            var latencyFrom = driver.LatenciesMs.Count;
            var phaseStart = DateTimeOffset.UtcNow;
            monitor.Loading = true;
            await driver.RunPhaseAsync(phase, rate, duration, options.MaxInFlight, generator, random, options.RetryShare, options.DuplicateShare);
            var submitted = DateTimeOffset.UtcNow;
            monitor.Loading = false;
            probes.Phase = 0;
            await driver.DrainAsync();
            var expectedEvents = driver.Accepted.Sum(a => (long)a.Attempt.Questions.Length);
            Say($"phase {phase}: submits done in {(submitted - phaseStart).TotalSeconds:N1}s; waiting for the pipeline to hold all {expectedEvents:N0} events");
            var (rowsAt, aggregatesAt) = await monitor.WaitSettledAsync(expectedEvents, driver.Accepted.Count, options.SettleTimeout);
            if (p == plan.Count - 1)
                await stopProbes.CancelAsync();
            await WaitForProbesAsync(probes, phase, flushInterval + TimeSpan.FromSeconds(30));
            var cpu = CpuSnapshot.Between(cpuBefore, CpuSnapshot.Take(stack));
            var mine = driver.Accepted.Where(a => a.Phase == phase).ToList();
            var result = new PhaseResult(phase, rate, duration, phaseStart, submitted, mine.Count(a => !a.Attempt.Track.IsProbe), mine.Sum(a => (long)a.Attempt.Questions.Length),
                mine.Count, rowsAt, aggregatesAt, probes.All.Where(pr => pr.Phase == phase).ToList(), driver.LatenciesMs.Skip(latencyFrom).ToList(),
                monitor.NewPhase(), cpu, (aggregatesAt ?? DateTimeOffset.UtcNow) - phaseStart);
            phases.Add(result);
            Say($"phase {phase}: {result.Summary(flushInterval)}");
        }
        await probing;
        await stopPolling.CancelAsync();
        await polling;
        await stopMonitor.CancelAsync();
        await monitoring;

        // A late duplicate would show up after the totals first matched: give the aggregator a few more flushes.
        await Task.Delay(flushInterval * 3);
        // Per process: a service's replicas by their pid file's name (aggregator, aggregator-2, …); a service with none left shows as gone.
        var memory = LocalStack.Services.SelectMany(s => stack.Replicas(s) is { Count: > 0 } replicas
                ? replicas.Select(r => (r.Name, ProcessStats.MemoryMb(r.Pid, "VmHWM")))
                : [(s, (double?)null)])
            .ToDictionary(x => x.Item1, x => x.Item2);
        var replicaWork = ReplicaWork.Between(workBefore, await ReplicaWork.TakeAsync(stack, database, metricsHttp));

        Say("checking answer_events and every aggregate of the run's tracks and cycles against what was accepted");
        var verifier = new Verifier(database, statsHttp, stack.StatsApiKey, wallets, tracks.Select(t => t.TrackId).ToArray(), cycles.Select(c => c.CycleNumber).ToArray());
        var exactness = await verifier.CheckAsync(driver.Accepted);
        Say(exactness.Exact ? "exact: every event and every aggregate equals what was sent" : "NOT EXACT: see the report");

        var bare = new List<BareResult>();
        var bareMessages = options.BareMessages ?? (int)Math.Max(1000, phases[0].Events);
        foreach (var topology in options.Bare switch { "both" => new[] { "fanout", "single" }, "none" => [], var one => [one] })
        {
            Say($"bare MassTransit publish → consume, {topology}, {bareMessages:N0} messages (temporary vhost)");
            var measured = await new BareTransport(stack, runId, Say).MeasureAsync(topology, bareMessages);
            Say($"  {measured.Rate:N0} msg/s consumed ({measured.PublishRate:N0} msg/s published and confirmed)");
            bare.Add(measured);
        }

        var report = new Report(options, runId, started, loadBefore, File.ReadAllText("/proc/loadavg").Trim(), flushInterval, loadTracks, cycles,
            counters, phases, exactness, memory, monitor.PeakAnonymousMb, peakReset, bare, Clock.Elapsed, scale, replicaWork);
        Directory.CreateDirectory(options.ResultsDir);
        var chart = $"loadtest-{runId}.svg";
        await File.WriteAllTextAsync(Path.Combine(options.ResultsDir, chart), Chart.Svg(monitor.Samples, $"run {runId}: cumulative events over time"));
        var markdown = report.Markdown() + $"\n![events accepted, stored and aggregated over time]({chart})\n";
        var path = Path.Combine(options.ResultsDir, $"loadtest-{runId}.md");
        await File.WriteAllTextAsync(path, markdown);
        Console.WriteLine(markdown);
        Say($"report saved to {path}");
        return exactness.Exact && counters.GradingMismatches == 0 && counters.ReplayMismatches == 0 ? 0 : 1;
    }

    private static async Task WaitForProbesAsync(Probes probes, int phase, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (probes.All.Any(p => p.Phase == phase && p.ReflectedAt is null) && clock.Elapsed < timeout)
            await Task.Delay(100);
    }

    public static void Say(string message) => Console.Error.WriteLine($"[loadgen {Clock.Elapsed.TotalSeconds,6:N1}s] {message}");
}
