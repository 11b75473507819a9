using System.Globalization;
using Npgsql;

namespace Telemetry.LoadGen;

/// <summary>
/// What each consumer process did during the run, so that replicas (up.sh --scale) show they shared the work: events
/// each ingestor and aggregator process committed (telemetry_consumer_events_total on its own /metrics, by outcome) and
/// events each aggregator instance applied by its own record (rollup_state.events_applied, one row per SERVICE_INSTANCE).
/// </summary>
public sealed class ReplicaWork
{
    public static readonly string[] Consumers = ["event-ingestor", "aggregator"];

    private readonly Dictionary<string, long> _rollup = [];
    private readonly Dictionary<string, (Replica Replica, long? New, long? Duplicate)> _processes = [];

    public static async Task<ReplicaWork> TakeAsync(LocalStack stack, NpgsqlDataSource database, HttpClient http)
    {
        var work = new ReplicaWork();
        await using (var command = database.CreateCommand("SELECT instance, events_applied FROM rollup_state"))
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                work._rollup[reader.GetString(0)] = reader.GetInt64(1);
        foreach (var replica in Consumers.SelectMany(stack.Replicas))
        {
            var (added, duplicate) = await EventsAsync(http, replica);
            work._processes[replica.Name] = (replica, added, duplicate);
        }
        return work;
    }

    /// <summary>The sums of telemetry_consumer_events_total{outcome="new"} and {outcome="duplicate"} on the replica's /metrics.</summary>
    private static async Task<(long? New, long? Duplicate)> EventsAsync(HttpClient http, Replica replica)
    {
        if (replica.Url is not { } url)
            return (null, null);
        string text;
        try
        {
            text = await http.GetStringAsync(new Uri(url, "metrics"));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return (null, null);
        }
        long added = 0, duplicate = 0;
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("telemetry_consumer_events_total{", StringComparison.Ordinal))
                continue;
            var value = line[(line.LastIndexOf(' ') + 1)..];
            if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var count))
                continue;
            if (line.Contains("outcome=\"new\"", StringComparison.Ordinal))
                added += (long)count;
            else if (line.Contains("outcome=\"duplicate\"", StringComparison.Ordinal))
                duplicate += (long)count;
        }
        return (added, duplicate);
    }

    /// <summary>One row per consumer process that runs at the end, plus rollup_state rows of instances that applied events but run no more.</summary>
    public static IReadOnlyList<ReplicaRow> Between(ReplicaWork before, ReplicaWork after)
    {
        var rows = new List<ReplicaRow>();
        foreach (var (name, (replica, added, duplicate)) in after._processes)
        {
            var instance = replica.Instance;
            // A process restarted in between (another pid) counts from zero again: its counter difference would be meaningless.
            var same = before._processes.TryGetValue(name, out var b) && b.Replica.Pid == replica.Pid;
            rows.Add(new ReplicaRow(replica.Service, name, instance, replica.Url?.Port, replica.Pid,
                added - (same ? b.New : 0), duplicate - (same ? b.Duplicate : 0), !same,
                replica.Service == "aggregator" && instance is not null ? Applied(before, after, instance) : null));
        }
        var shown = rows.Select(r => r.Instance).ToHashSet();
        foreach (var instance in after._rollup.Keys.Where(i => !shown.Contains(i) && Applied(before, after, i) > 0))
            rows.Add(new ReplicaRow("aggregator", "(not running now)", instance, null, null, null, null, false, Applied(before, after, instance)));
        return rows;
    }

    private static long Applied(ReplicaWork before, ReplicaWork after, string instance) =>
        after._rollup.GetValueOrDefault(instance) - before._rollup.GetValueOrDefault(instance);
}

/// <summary>A consumer process's share of the run: events it committed (its /metrics) and, for the aggregator, what its rollup_state row says it applied.</summary>
public sealed record ReplicaRow(
    string Service, string Name, string? Instance, int? Port, int? Pid, long? New, long? Duplicate, bool StartedDuringRun, long? RollupApplied);
