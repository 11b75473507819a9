namespace Telemetry.Testing.Bench;

/// <summary>CPU time (user + system) of processes, read from /proc/PID/stat; zero for a process that is gone.</summary>
public static class ProcessCpu
{
    private const double TicksPerSecond = 100; // USER_HZ, 100 on Linux

    /// <summary>A process's own CPU time and that of its children it has waited for.</summary>
    public static TimeSpan WithReapedChildren(int pid) => Stat(pid) is { } stat ? stat.Own + stat.Reaped : TimeSpan.Zero;

    /// <summary>
    /// PostgreSQL's CPU time given its postmaster: ended backends are counted in the postmaster's reaped children, live
    /// ones only by themselves.
    /// </summary>
    public static TimeSpan WithLiveChildren(int parent)
    {
        var total = WithReapedChildren(parent);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), out var pid) && pid != parent && Stat(pid) is { } child && child.ParentPid == parent)
                total += child.Own;
        return total;
    }

    public static int? ParentOf(int pid) => Stat(pid)?.ParentPid;

    private static (int ParentPid, TimeSpan Own, TimeSpan Reaped)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null; // exited meanwhile
        }
        // Fields after the command name, which is in parentheses and may hold spaces: state ppid … utime stime cutime cstime.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        TimeSpan Ticks(int index) => TimeSpan.FromSeconds(long.Parse(fields[index]) / TicksPerSecond);
        return (int.Parse(fields[1]), Ticks(11) + Ticks(12), Ticks(13) + Ticks(14));
    }
}
