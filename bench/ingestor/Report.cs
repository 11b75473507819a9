using Telemetry.ServiceDefaults;
using Telemetry.Testing.Bench;

namespace Telemetry.Bench.Ingestor;

/// <summary>Per-round samples, their medians and ratios, printed as Markdown.</summary>
public sealed class Report
{
    public const string IngestorDrain = "(a) ingestor drain into answer_events";
    public const string IngestorWall = "(a) ingestor wall time, start → queue empty and all rows present";
    public const string IngestorBatch = "(a) ingestor batch size, average (from its answer_events_logged audit)";
    public const string BareConsume = "(b) bare MassTransit consume (ack only)";
    public const string BareBatchConsume = "(b') bare MassTransit batch consume (ack only, same batch options)";
    public const string IngestorCpu = "(a) ingestor: CPU per 1,000 events, all processes";
    public const string BareCpu = "(b) bare consume: CPU per 1,000 messages";
    public const string BareBatchCpu = "(b') bare batch consume: CPU per 1,000 messages";
    public const string Copy = "(c) binary COPY of the same rows, one statement";
    public const string Unnest = "INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING (service)";
    public const string Staging = "COPY → temp staging table (per batch) + INSERT … ON CONFLICT DO NOTHING";
    public const string KeptStaging = "COPY → temp staging table (kept on one connection) + INSERT … ON CONFLICT";
    public const string Drop = "(d) retention: drop the expired partitions";
    public const string Delete = "(d) DELETE FROM answer_events WHERE created_at < cutoff";
    public const string DeleteVacuum = "(d) DELETE + VACUUM (space reusable)";

    private static readonly (string Name, string Unit)[] Rows =
    [
        (IngestorDrain, "msg/s"), (IngestorWall, "s"), (IngestorBatch, "events"), (BareConsume, "msg/s"), (BareBatchConsume, "msg/s"), (IngestorCpu, "ms"), (BareCpu, "ms"), (BareBatchCpu, "ms"), (Copy, "rows/s"),
        (Unnest, "rows/s"), (Staging, "rows/s"), (KeptStaging, "rows/s"), (Drop, "ms"), (Delete, "ms"), (DeleteVacuum, "ms"),
    ];

    private readonly Dictionary<string, List<double>> _samples = [];

    public (StorageSnapshot Before, StorageSnapshot After, string Command)? Figure { get; set; }

    public void Add(string metric, double value)
    {
        if (!_samples.TryGetValue(metric, out var values))
            _samples[metric] = values = [];
        values.Add(value);
    }

    /// <summary>The total per 1,000 messages as a row, and its split by process for the "where the CPU goes" table.</summary>
    public void AddCpu(string metric, CpuTime cpu, int messages)
    {
        double PerThousand(TimeSpan time) => time.TotalMilliseconds * 1000 / messages;
        Add(metric, PerThousand(cpu.Total));
        Add(metric + CpuSplit[0], PerThousand(cpu.Bench));
        Add(metric + CpuSplit[1], PerThousand(cpu.Postgres));
        Add(metric + CpuSplit[2], PerThousand(cpu.RabbitMq));
    }

    private static readonly string[] CpuSplit = ["|.NET (consumer)", "|PostgreSQL", "|RabbitMQ"];

    public void Print(BenchOptions options)
    {
        if (_samples.Count > 0)
            PrintMeasurements(options);
        if (Figure is { } figure)
            PrintFigure(options, figure.Before, figure.After, figure.Command);
    }

    private void PrintMeasurements(BenchOptions options)
    {
        var limits = options.Ingestor;
        var rounds = _samples.Values.Max(v => v.Count);
        Console.WriteLine($"""

            ## Event ingestor benchmark

            Backlog {options.Messages:N0} AnswerSubmitted in the `{BrokerTopology.IngestorQueue}` quorum queue; IngestorOptions MessageLimit={limits.MessageLimit},
            TimeLimit={limits.TimeLimit.TotalMilliseconds:N0} ms, ConcurrencyLimit={limits.ConcurrencyLimit}, prefetch={limits.PrefetchCount}; write paths on one connection in
            batches of {limits.MessageLimit}; retention over {options.RetentionRows:N0} rows in 5 daily partitions. {Environment.ProcessorCount} cores, one machine; medians of {rounds} rounds.

            """);
        Console.WriteLine($"| measurement | unit | {string.Join(" | ", Enumerable.Range(1, rounds).Select(r => $"round {r}"))} | median |");
        Console.WriteLine($"|---|---|{string.Concat(Enumerable.Repeat("---:|", rounds + 1))}");
        foreach (var (name, unit) in Rows.Where(r => _samples.ContainsKey(r.Name)))
            Console.WriteLine($"| {name} | {unit} | {string.Join(" | ", _samples[name].Select(Format))} | **{Format(Median(name))}** |");

        var drains = new[] { IngestorCpu, BareCpu, BareBatchCpu }.Where(_samples.ContainsKey).ToList();
        if (drains.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine($"| where the CPU goes, ms per 1,000 messages (medians) | {string.Join(" | ", drains.Select(d => d[..d.IndexOf(':')]))} |");
            Console.WriteLine($"|---|{string.Concat(Enumerable.Repeat("---:|", drains.Count))}");
            foreach (var part in CpuSplit)
                Console.WriteLine($"| {part[1..]} | {string.Join(" | ", drains.Select(d => Format(Median(d + part))))} |");
        }

        Console.WriteLine();
        Console.WriteLine("| ratio (of medians) | value | target |");
        Console.WriteLine("|---|---:|---|");
        Ratio("ingestor drain ÷ bare consume", IngestorDrain, BareConsume, "≥ 0.6");
        Ratio("bare consume CPU ÷ ingestor CPU, per message (the drain ratio CPU alone allows)", BareCpu, IngestorCpu, "");
        Ratio("ingestor drain ÷ bare batch consume", IngestorDrain, BareBatchConsume, "");
        Ratio("ingestor drain ÷ binary COPY", IngestorDrain, Copy, "");
        Ratio("staging per batch ÷ unnest", Staging, Unnest, "> 1 would favour staging");
        Ratio("kept staging ÷ unnest", KeptStaging, Unnest, "> 1 would favour staging");
        Ratio("DELETE ÷ partition drop (time)", Delete, Drop, "");
        Ratio("DELETE + VACUUM ÷ partition drop (time)", DeleteVacuum, Drop, "");
    }

    private void Ratio(string name, string numerator, string denominator, string target)
    {
        if (_samples.ContainsKey(numerator) && _samples.ContainsKey(denominator))
            Console.WriteLine($"| {name} | {Median(numerator) / Median(denominator):N2} | {target} |");
    }

    private static void PrintFigure(BenchOptions options, StorageSnapshot before, StorageSnapshot after, string command)
    {
        Console.WriteLine($"""

            ## How retention keeps raw storage bounded

            {options.FigureDays} simulated days of {options.FigureRowsPerDay:N0} events each (up to today, plus the partitions created ahead), then `{command}`:

            | answer_events | partitions | days | rows | oldest event | on disk (partitions, with indexes) |
            |---|---:|---|---:|---|---:|
            {Line("before retention", before)}
            {Line("after retention", after)}

            Retention keeps the days from today − {options.RetentionDays} on: at most {options.RetentionDays + 1} days of events plus the empty partitions
            ahead, so raw storage levels off at about {options.RetentionDays + 1} × the daily volume
            (here {(double)after.Bytes / Math.Max(1, after.Rows) * options.FigureRowsPerDay * (options.RetentionDays + 1) / 1048576:N1} MB at {options.FigureRowsPerDay:N0} events a day), whatever the age of the system.
            """);
    }

    private static string Line(string name, StorageSnapshot s) =>
        $"| {name} | {s.Partitions} | {s.FirstDay:yyyy-MM-dd} … {s.LastDay:yyyy-MM-dd} | {s.Rows:N0} | {s.OldestEventDay:yyyy-MM-dd} | {s.Bytes / 1048576.0:N1} MB |";

    private double Median(string metric)
    {
        var sorted = _samples[metric].Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Format(double value) => value >= 100 ? value.ToString("N0") : value.ToString("N2");
}
