using Telemetry.Testing.Bench;

namespace Telemetry.Bench.Relay;

/// <summary>Per-round samples, their medians and the relay/bare ratio, printed as Markdown.</summary>
public sealed class Report(BenchOptions options)
{
    public const string Accepted = "(a) accepted submits over HTTP, relay running";
    public const string RelayLive = "(b) relay while submits arrive: first outbox row → last marked sent";
    public const string AcceptedPaused = "(a') accepted submits over HTTP, relay paused (builds the backlog for c)";
    public const string RelayDrain = "(c) relay draining that backlog: start → last row marked sent";
    public const string Bare = "(d) bare MassTransit publish, confirms on, relay's concurrency";

    private const string CpuProcess = "CPU of this process (.NET: API, relay, bare bus)";
    private const string CpuPostgres = "CPU of PostgreSQL";
    private const string CpuRabbitMq = "CPU of RabbitMQ";

    private static readonly (string Name, string Unit)[] Rows =
    [
        (Accepted, "attempts/s"), (RelayLive, "events/s"), (AcceptedPaused, "attempts/s"), (RelayDrain, "events/s"), (Bare, "msg/s"),
        .. new[] { RelayDrain, Bare }.SelectMany(m => new[] { CpuProcess, CpuPostgres, CpuRabbitMq }.Select(c => ($"{m[..3]} {c}", "µs/msg"))),
    ];

    private readonly Dictionary<string, List<double>> _samples = [];

    public void Add(string metric, double value)
    {
        if (!_samples.TryGetValue(metric, out var values))
            _samples[metric] = values = [];
        values.Add(value);
    }

    /// <summary>Adds the CPU a measurement used as microseconds per message.</summary>
    public void AddCpu(string metric, CpuTime used, long messages)
    {
        double Micro(TimeSpan cpu) => cpu.TotalSeconds * 1e6 / messages;
        Add($"{metric[..3]} {CpuProcess}", Micro(used.Bench));
        Add($"{metric[..3]} {CpuPostgres}", Micro(used.Postgres));
        Add($"{metric[..3]} {CpuRabbitMq}", Micro(used.RabbitMq));
    }

    public void Clear() => _samples.Clear();

    /// <summary>The latest round in one line, for the progress log.</summary>
    public string Last() => string.Join(", ", Rows.Take(5).Where(r => _samples.ContainsKey(r.Name)).Select(r => $"{r.Name[..(r.Name.IndexOf(')') + 1)]} {_samples[r.Name][^1]:N0} {r.Unit}"));

    public void Print()
    {
        var rounds = _samples.Values.Max(v => v.Count);
        var ratios = _samples[RelayDrain].Zip(_samples[Bare], (relay, bare) => relay / bare).ToList();
        var relay = options.Relay;
        Console.WriteLine($"""

            ## Outbox relay benchmark

            {options.Attempts:N0} attempts × {options.Answers} answers = {options.Events:N0} AnswerSubmitted per measurement, submitted by {options.Clients} concurrent
            HTTP clients (real Kestrel on loopback, one wallet each). Relay: BatchSize={relay.BatchSize}, Workers={relay.Workers}, publisher confirms on;
            the bare publisher uses the same bus settings, virtual host, exchange and bound quorum queues ({Environment.ProcessorCount} cores, one machine,
            PostgreSQL and RabbitMQ included). Every measurement checks that each bound queue received exactly {options.Events:N0} messages.

            """);
        Console.WriteLine($"| measurement | unit | {string.Join(" | ", Enumerable.Range(1, rounds).Select(r => $"round {r}"))} | median |");
        Console.WriteLine($"|---|---|{string.Concat(Enumerable.Repeat("---:|", rounds + 1))}");
        foreach (var (name, unit) in Rows.Where(r => _samples.ContainsKey(r.Name)))
            Console.WriteLine($"| {name} | {unit} | {string.Join(" | ", _samples[name].Select(v => v.ToString("N0")))} | **{Median(_samples[name]):N0}** |");
        Console.WriteLine($"| relay / bare = (c) / (d) | × | {string.Join(" | ", ratios.Select(r => r.ToString("0.00")))} | **{Median(ratios):0.00}** |");
        var verdict = Median(ratios) >= 0.8 ? "meets" : "misses";
        Console.WriteLine($"""

            Relay throughput is **{Median(ratios):0.00}×** the bare MassTransit publish rate (median of per-round ratios; target ≥ 0.80: {verdict} it).
            (b) is bounded by the submit rate when the relay keeps up; (c) is the relay's own capacity. The CPU rows (per message,
            from /proc) show where the difference goes: the relay's rows are claimed (row locks) and marked sent in PostgreSQL,
            and read and deserialized in .NET, on the same cores the broker needs.
            """);
    }

    private static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
