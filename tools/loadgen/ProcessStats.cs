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

/// <summary>CPU seconds per process between two snapshots: where the machine's time went during a phase.</summary>
public sealed class CpuSnapshot
{
    private readonly Dictionary<string, TimeSpan> _cpu = [];

    public IReadOnlyDictionary<string, TimeSpan> Values => _cpu;

    public static CpuSnapshot Take(LocalStack stack)
    {
        var snapshot = new CpuSnapshot();
        foreach (var service in LocalStack.Services)
            if (stack.Pid(service) is { } pid)
                snapshot._cpu[service] = ProcessCpu.WithReapedChildren(pid);
        if (stack.Pid("postgres") is { } postgres)
            snapshot._cpu["postgres"] = ProcessCpu.WithLiveChildren(postgres);
        if (RabbitBeamPid(stack) is { } beam)
            snapshot._cpu["rabbitmq"] = ProcessCpu.WithReapedChildren(beam);
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        snapshot._cpu["loadgen"] = self.TotalProcessorTime;
        return snapshot;
    }

    public static Dictionary<string, TimeSpan> Between(CpuSnapshot before, CpuSnapshot after) =>
        after._cpu.Where(kv => before._cpu.ContainsKey(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value - before._cpu[kv.Key]);

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
