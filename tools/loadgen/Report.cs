using System.Globalization;
using System.Text;

namespace Telemetry.LoadGen;

public sealed record PhaseResult(
    int Phase, double OfferedRate, TimeSpan Duration, DateTimeOffset Start, DateTimeOffset SubmitsDone, int LoadAttempts, long Events, int Attempts,
    DateTimeOffset? RowsAt, DateTimeOffset? AggregatesAt, IReadOnlyList<Probe> Probes, IReadOnlyList<float> LatenciesMs, PhasePeaks Peaks,
    IReadOnlyDictionary<string, TimeSpan> Cpu, TimeSpan CpuWindow)
{
    public TimeSpan Submitting => SubmitsDone - Start;
    public double AcceptedPerSecond => Attempts / Submitting.TotalSeconds;
    public double AcceptedEventsPerSecond => Events / Submitting.TotalSeconds;
    public double? RowsPerSecond => RowsAt is { } at ? Events / (at - Start).TotalSeconds : null;
    public double? AggregatedPerSecond => AggregatesAt is { } at ? Events / (at - Start).TotalSeconds : null;
    public TimeSpan? Tail => AggregatesAt - SubmitsDone;

    public List<double> Freshness => Probes.Where(p => p.Freshness is not null).Select(p => p.Freshness!.Value.TotalSeconds).Order().ToList();
    public int Unreflected => Probes.Count(p => p.Freshness is null);

    /// <summary>
    /// Kept up: the offered rate was accepted, the aggregate lag did not grow by more than 1% of the event rate per minute
    /// while loading, and the aggregates caught up within two flushes and 5 s of the last submit.
    /// </summary>
    public bool KeptUp(TimeSpan flush) =>
        LoadAttempts >= 0.97 * OfferedRate * Duration.TotalSeconds
        && (Peaks.LagGrowthPerMinute is not { } growth || growth <= 0.01 * AcceptedEventsPerSecond * 60)
        && Tail is { } tail && tail <= flush * 2 + TimeSpan.FromSeconds(5);

    public string Summary(TimeSpan flush) =>
        $"{AcceptedPerSecond:N1} attempts/s and {AcceptedEventsPerSecond:N0} events/s accepted; end to end {Format(RowsPerSecond)} events/s into answer_events, "
        + $"{Format(AggregatedPerSecond)} into the aggregates (caught up {(Tail is { } t ? $"{t.TotalSeconds:N1}s" : "never")} after the last submit); "
        + $"freshness p50 {Percentile(Freshness, 0.5):N2}s p99 {Percentile(Freshness, 0.99):N2}s over {Freshness.Count} probes; kept up: {(KeptUp(flush) ? "yes" : "no")}";

    public static double Percentile(IReadOnlyList<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

    public static string Format(double? value) => value is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "—";
}

/// <summary>The Markdown report: settings, rates, freshness, memory, where the CPU went, exactness and the targets.</summary>
public sealed class Report(
    LoadOptions options, string runId, DateTimeOffset started, string loadBefore, string loadAfter, TimeSpan flush, IReadOnlyList<LoadTrack> tracks,
    IReadOnlyList<LoadCycle> cycles, Counters counters, IReadOnlyList<PhaseResult> phases, Exactness exactness,
    IReadOnlyDictionary<string, double?> memory, IReadOnlyDictionary<string, double> anonymous, bool peakReset, IReadOnlyList<BareResult> bare, TimeSpan took,
    IReadOnlyDictionary<string, int> scale, IReadOnlyList<ReplicaRow> replicaWork)
{
    private const double MemoryLimitMb = 300;

    public string Markdown()
    {
        var s = new StringBuilder();
        var main = phases[0];
        var half = phases.Count > 1 ? phases[1] : null;
        s.AppendLine($"# Whole-pipeline load test {runId}");
        s.AppendLine();
        s.AppendLine($"`tools/loadgen/run.sh {options.CommandLine}` — started {started:yyyy-MM-dd HH:mm:ss} UTC, took {took.TotalMinutes:N1} min; "
                     + $"{Environment.ProcessorCount} cores shared with other work; load average before `{loadBefore}`, after `{loadAfter}`.");
        s.AppendLine();
        s.AppendLine($"Seed {options.Seed}; {options.WalletCount:N0} wallets; {tracks.Count} tracks of {string.Join(", ", tracks.Select(t => t.Questions.Length))} questions "
                     + $"(about 80% of attempts answer every question) plus a {Catalogue.ProbeQuestions}-question probe track; cycles {string.Join(" and ", cycles.Select(c => c.CycleNumber))} "
                     + $"(the second starts mid-run); {options.RetryShare:P0} of attempts resent after their 202 and {options.DuplicateShare:P0} sent twice at once; "
                     + $"at most {options.MaxInFlight} requests in flight; one probe every {options.ProbeInterval.TotalSeconds:N1}s, stats API polled every {options.ProbePoll.TotalMilliseconds:N0} ms; "
                     + $"aggregator flush interval {flush.TotalSeconds:N1}s; processes (deploy/local/up.sh --scale): {string.Join(", ", scale.Select(kv => $"{kv.Key} ×{kv.Value}"))}.");
        s.AppendLine();

        s.AppendLine("| measurement | " + string.Join(" | ", phases.Select(p => $"phase {p.Phase}: {p.OfferedRate:N0} attempts/s offered, {p.Duration.TotalSeconds:N0}s")) + " |");
        s.AppendLine("|---|" + string.Concat(phases.Select(_ => "---:|")));
        Row(s, "accepted attempts/s (incl. probes)", p => $"{p.AcceptedPerSecond:N1}");
        Row(s, "accepted events/s (answers)", p => $"{p.AcceptedEventsPerSecond:N0}");
        Row(s, "attempts / events accepted", p => $"{p.Attempts:N0} / {p.Events:N0}");
        Row(s, "end to end: submit → answer_events, events/s", p => PhaseResult.Format(p.RowsPerSecond));
        Row(s, "end to end: submit → aggregates, events/s", p => PhaseResult.Format(p.AggregatedPerSecond));
        Row(s, "aggregates caught up after the last submit", p => p.Tail is { } t ? $"{t.TotalSeconds:N1} s" : "never");
        Row(s, "kept up (offered rate accepted, lag growth ≤ 1% of the event rate per minute, caught up within 2 flushes + 5 s)", p => p.KeptUp(flush) ? "yes" : "**no**");
        Row(s, "freshness p50 / p99 / max (202 → stats API shows it)", p => $"{PhaseResult.Percentile(p.Freshness, 0.5):N2} / **{PhaseResult.Percentile(p.Freshness, 0.99):N2}** / {(p.Freshness.Count == 0 ? double.NaN : p.Freshness[^1]):N2} s");
        Row(s, "probes (not reflected)", p => $"{p.Freshness.Count} ({p.Unreflected})");
        Row(s, "submit latency p50 / p99 (202s)", p =>
        {
            var sorted = p.LatenciesMs.Select(l => (double)l).Order().ToList();
            return $"{PhaseResult.Percentile(sorted, 0.5):N0} / {PhaseResult.Percentile(sorted, 0.99):N0} ms";
        });
        Row(s, "peak outbox backlog / ingestor queue / aggregator queue", p => $"{p.Peaks.Outbox:N0} / {p.Peaks.IngestorQueue:N0} / {p.Peaks.AggregatorQueue:N0}");
        Row(s, "backlog growth while loading, per minute: outbox / ingestor queue / aggregator queue", p =>
        {
            var (outbox, ingestor, aggregator) = p.Peaks.BacklogGrowthPerMinute;
            return string.Join(" / ", new[] { outbox, ingestor, aggregator }.Select(g => g is { } v ? v.ToString("+#,0;-#,0;0", CultureInfo.InvariantCulture) : "—"));
        });
        Row(s, "peak aggregate lag (accepted − aggregated events); its growth while loading", p =>
            $"{p.Peaks.AggregateLagEvents:N0}; {(p.Peaks.LagGrowthPerMinute is { } g ? $"{g:+#,0;-#,0;0} events/min" : "—")}");
        s.AppendLine();

        if (bare.Count > 0)
        {
            s.AppendLine("| bare MassTransit publish → consume (same run, same RabbitMQ, temporary vhost) | messages | published + confirmed, msg/s | consumed, msg/s | phase 1 end to end (aggregates) ÷ bare |");
            s.AppendLine("|---|---:|---:|---:|---:|");
            foreach (var b in bare)
                s.AppendLine($"| {(b.Topology == "fanout" ? "fan-out to two quorum queues, as the stack (ingestor + aggregator prefetch)" : "one quorum queue")} | {b.Messages:N0} | {b.PublishRate:N0} | {b.Rate:N0} | "
                             + $"**{(main.AggregatedPerSecond is { } e ? (e / b.Rate).ToString("N2") : "—")}** |");
            s.AppendLine();
        }

        if (replicaWork.Count > 0)
        {
            s.AppendLine("| consumer process (pid file) | instance (SERVICE_INSTANCE) | port | events committed in this run: new / duplicate (its /metrics) | rollup_state events_applied, this run |");
            s.AppendLine("|---|---|---:|---:|---:|");
            foreach (var r in replicaWork)
                s.AppendLine($"| {r.Name} | {r.Instance ?? "—"} | {(r.Port is { } port ? port.ToString(CultureInfo.InvariantCulture) : "—")} | "
                             + $"{(r.New is { } n ? $"{n:N0}" : "—")} / {(r.Duplicate is { } d ? $"{d:N0}" : "—")}{(r.StartedDuringRun ? " (started during the run)" : "")} | "
                             + $"{(r.RollupApplied is { } a ? $"{a:N0}" : "—")} |");
            var applied = replicaWork.Where(r => r.RollupApplied is not null).ToList();
            var ingestors = replicaWork.Where(r => r.Service == "event-ingestor").ToList();
            s.AppendLine();
            s.AppendLine($"- {applied.Count(r => r.RollupApplied > 0)} of {applied.Count} aggregator instances applied events, together {applied.Sum(r => r.RollupApplied ?? 0):N0}; "
                         + $"{ingestors.Count(r => r.New > 0)} of {ingestors.Count} ingestor processes stored events, together {ingestors.Sum(r => r.New ?? 0):N0}. "
                         + $"This run accepted {exactness.ExpectedEvents:N0} events, probes included (anything else submitted meanwhile counts here too).");
            s.AppendLine();
        }

        s.AppendLine($"| service | peak memory, MB (VmHWM{(peakReset ? ", reset at the start of the run" : ", since the service started")}) | of which private: peak anonymous memory, MB (smaps_rollup, sampled with the progress line) |");
        s.AppendLine("|---|---:|---:|");
        foreach (var (service, mb) in memory)
            s.AppendLine($"| {service} | {(mb is { } m ? $"{m:N0}" : "—")} | {(anonymous.TryGetValue(service, out var a) ? $"{a:N0}" : "—")} |");
        s.AppendLine();

        var processes = phases.SelectMany(p => p.Cpu.Keys).Distinct().ToList();
        s.AppendLine("| CPU seconds, phase start → settled (share of 2 cores) | " + string.Join(" | ", phases.Select(p => $"phase {p.Phase} ({p.CpuWindow.TotalSeconds:N0} s)")) + " |");
        s.AppendLine("|---|" + string.Concat(phases.Select(_ => "---:|")));
        foreach (var process in processes.OrderByDescending(x => main.Cpu.GetValueOrDefault(x)))
            s.AppendLine($"| {process} | " + string.Join(" | ", phases.Select(p =>
            {
                var cpu = p.Cpu.GetValueOrDefault(process);
                return $"{cpu.TotalSeconds:N0} ({cpu.TotalSeconds / p.CpuWindow.TotalSeconds / Environment.ProcessorCount:P0})";
            })) + " |");
        s.AppendLine();

        s.AppendLine("| exactness (this run's tracks and cycles) | expected | found | differing |");
        s.AppendLine("|---|---:|---:|---:|");
        s.AppendLine($"| answer_events rows, compared column by column | {exactness.ExpectedEvents:N0} | {exactness.FoundEvents:N0} | "
                     + $"{exactness.MissingEvents:N0} missing, {exactness.UnexpectedEvents:N0} unexpected, {exactness.DuplicateEventIds:N0} duplicate ids |");
        foreach (var table in exactness.Aggregates)
            s.AppendLine($"| {table.Table} rows | {table.ExpectedRows:N0} | {table.FoundRows:N0} | {table.Differing:N0} |");
        s.AppendLine();
        foreach (var check in exactness.ApiChecks)
            s.AppendLine($"- {check}");
        s.AppendLine($"- requests {counters.Requests:N0}: {string.Join(", ", counters.ByStatus.OrderBy(kv => kv.Key).Select(kv => $"{kv.Value:N0}× {kv.Key}"))}"
                     + $"{(counters.Timeouts > 0 ? $", {counters.Timeouts:N0} timeouts/connection errors" : "")}; replays answered identically {counters.ReplaysMatching:N0}, "
                     + $"differently {counters.ReplayMismatches:N0}; grading mismatches {counters.GradingMismatches:N0}");
        foreach (var example in exactness.Examples.Concat(exactness.Aggregates.SelectMany(a => a.Examples)).Take(10))
            s.AppendLine($"- `{example}`");
        s.AppendLine();

        s.AppendLine("| target (issue 7) | got | met |");
        s.AppendLine("|---|---:|:---:|");
        s.AppendLine($"| ≥ 5 min at the highest sustainable rate, zero lost, zero double counted | {main.Duration.TotalMinutes:N1} min at {main.OfferedRate:N0}/s, kept up: {(main.KeptUp(flush) ? "yes" : "no")}, "
                     + $"{exactness.MissingEvents:N0} lost, {exactness.UnexpectedEvents + exactness.DuplicateEventIds:N0} extra | {Mark(main.Duration >= TimeSpan.FromMinutes(5) && main.KeptUp(flush) && exactness.Exact)} |");
        foreach (var b in bare)
            s.AppendLine($"| end-to-end events/s ≥ 0.5 × bare ({b.Topology}) | {(main.AggregatedPerSecond is { } e ? $"{e / b.Rate:N2} ×" : "—")} | {Mark(main.AggregatedPerSecond >= 0.5 * b.Rate)} |");
        var target = flush + TimeSpan.FromSeconds(2);
        var freshnessPhase = half ?? main;
        var p99 = PhaseResult.Percentile(freshnessPhase.Freshness, 0.99);
        s.AppendLine($"| p99 freshness ≤ flush + 2 s = {target.TotalSeconds:N1} s at half the rate (phase {freshnessPhase.Phase}{(half is null ? ", no half-rate phase run" : "")}) | {p99:N2} s | {Mark(half is not null && p99 <= target.TotalSeconds)} |");
        var heaviest = memory.Values.Max() ?? double.NaN;
        s.AppendLine($"| no service above {MemoryLimitMb:N0} MB | {heaviest:N0} MB | {Mark(memory.Values.All(m => m is { } v && v <= MemoryLimitMb))} |");
        return s.ToString();
    }

    private void Row(StringBuilder s, string name, Func<PhaseResult, string> value) =>
        s.AppendLine($"| {name} | {string.Join(" | ", phases.Select(value))} |");

    private static string Mark(bool met) => met ? "yes" : "**no**";
}
