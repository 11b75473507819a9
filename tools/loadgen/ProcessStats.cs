using Telemetry.Testing.Bench;

namespace Telemetry.LoadGen;

/// <summary>Memory of the stack's processes from /proc (their CPU: <see cref="ProcessCpu"/>).</summary>
public static class ProcessStats
{
    /// <summary>A field of /proc/PID/status in MB (VmHWM = peak resident set, VmRSS = now), or null when gone.</summary>
    public static double? MemoryMb(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                    return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0]) / 1024.0;
        }
        catch (IOException)
        {
        }
        return null;
    }

    /// <summary>
    /// Anonymous (private: heaps, stacks) memory in MB from /proc/PID/smaps_rollup. Resident size also counts the mapped
    /// runtime and framework files, about 100 MB that every .NET process here shares.
    /// </summary>
    public static double? AnonymousMb(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
                if (line.StartsWith("Anonymous:", StringComparison.Ordinal))
                    return long.Parse(line["Anonymous:".Length..].Trim().Split(' ')[0]) / 1024.0;
        }
        catch (IOException)
        {
        }
        return null;
    }

    /// <summary>
    /// Resets the process's peak resident set (VmHWM) to its current size (Linux: "5" into clear_refs), so the peak
    /// reported covers this run only. False when not permitted (another user's process).
    /// </summary>
    public static bool ResetPeak(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}

/// <summary>
/// CPU seconds per process between two snapshots: where the machine's time went during a phase. A service that runs as
/// several processes (up.sh --scale) has a row per replica (named like its pid file: aggregator, aggregator-2, …) and
/// a row "SERVICE, N replicas" with their sum; a replica restarted in between (another pid) is left out.
/// </summary>
public sealed class CpuSnapshot
{
    private readonly Dictionary<string, (int Pid, TimeSpan Cpu, string? Service)> _cpu = [];

    public static CpuSnapshot Take(LocalStack stack)
    {
        var snapshot = new CpuSnapshot();
        foreach (var replica in stack.AllReplicas())
            snapshot._cpu[replica.Name] = (replica.Pid, ProcessCpu.WithReapedChildren(replica.Pid), replica.Service);
        if (stack.Pid("postgres") is { } postgres)
            snapshot._cpu["postgres"] = (postgres, ProcessCpu.WithLiveChildren(postgres), null);
        if (RabbitBeamPid(stack) is { } beam)
            snapshot._cpu["rabbitmq"] = (beam, ProcessCpu.WithReapedChildren(beam), null);
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        snapshot._cpu["loadgen"] = (Environment.ProcessId, self.TotalProcessorTime, null);
        return snapshot;
    }

    public static Dictionary<string, TimeSpan> Between(CpuSnapshot before, CpuSnapshot after)
    {
        var same = after._cpu.Where(kv => before._cpu.TryGetValue(kv.Key, out var b) && b.Pid == kv.Value.Pid).ToList();
        var result = same.ToDictionary(kv => kv.Key, kv => kv.Value.Cpu - before._cpu[kv.Key].Cpu);
        foreach (var service in same.Where(kv => kv.Value.Service is not null).GroupBy(kv => kv.Value.Service!).Where(g => g.Count() > 1))
            result[$"{service.Key}, {service.Count()} replicas"] = service.Aggregate(TimeSpan.Zero, (sum, kv) => sum + result[kv.Key]);
        return result;
    }

    /// <summary>rabbitmq.pid holds the launcher script; the Erlang VM is the beam.smp whose command line names our node folder.</summary>
    public static int? RabbitBeamPid(LocalStack stack)
    {
        var folder = Path.Combine(stack.LocalDir, "rabbitmq");
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
                continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains("beam.smp") && cmdline.Contains($"-home {folder} ") && cmdline.Contains("-s rabbit boot"))
                    return pid;
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return null;
    }
}
