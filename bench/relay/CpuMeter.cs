namespace Telemetry.Bench.Relay;

/// <summary>
/// CPU time (user + system, from /proc) of this process and of this run's own PostgreSQL and RabbitMQ servers (found by
/// the run folder tests/with-servers.sh made for them), to show where a measurement's CPU goes: on a shared 2-core
/// machine, throughput follows CPU per message. Reads nothing and reports zeros where /proc is missing.
/// </summary>
public static class CpuMeter
{
    public sealed record Usage(double Process, double Postgres, double RabbitMq);

    public static Usage Read()
    {
        var runFolder = Path.GetDirectoryName(Environment.GetEnvironmentVariable("TELEMETRY_TEST_RABBITMQ_CONTROL"));
        if (runFolder is null || !Directory.Exists("/proc"))
            return new Usage(0, 0, 0);
        var processes = Processes().ToList();
        // Backends that exited are counted in the postmaster's children time; live ones by themselves.
        var postmaster = processes.FirstOrDefault(p => p.CommandLine.Contains($"-D {runFolder}/", StringComparison.Ordinal) && p.Name == "postgres");
        var postgres = postmaster is null
            ? 0
            : postmaster.Seconds + postmaster.ChildrenSeconds + processes.Where(p => p.ParentId == postmaster.Id).Sum(p => p.Seconds);
        var rabbitMq = processes
            .Where(p => p.Name.StartsWith("beam", StringComparison.Ordinal) && p.CommandLine.Contains(runFolder, StringComparison.Ordinal))
            .Sum(p => p.Seconds + p.ChildrenSeconds);
        var self = processes.FirstOrDefault(p => p.Id == Environment.ProcessId)?.Seconds ?? 0;
        return new Usage(self, postgres, rabbitMq);
    }

    /// <summary>Microseconds of CPU per message since <paramref name="before"/>.</summary>
    public static Usage PerMessage(Usage before, long messages)
    {
        var after = Read();
        double Micro(double seconds) => seconds * 1e6 / messages;
        return new Usage(Micro(after.Process - before.Process), Micro(after.Postgres - before.Postgres), Micro(after.RabbitMq - before.RabbitMq));
    }

    private sealed record ProcessTimes(int Id, int ParentId, string Name, string CommandLine, double Seconds, double ChildrenSeconds);

    private static IEnumerable<ProcessTimes> Processes()
    {
        var ticksPerSecond = 100.0; // USER_HZ on Linux
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out var id))
                continue;
            string stat, commandLine;
            try
            {
                stat = File.ReadAllText(Path.Combine(folder, "stat"));
                commandLine = File.ReadAllText(Path.Combine(folder, "cmdline")).Replace('\0', ' ');
            }
            catch (IOException)
            {
                continue; // the process ended meanwhile
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            // "pid (name) state ppid …": the name may hold spaces and parentheses, so split after the last ')'.
            var name = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            yield return new ProcessTimes(
                id, int.Parse(fields[1]), name, commandLine,
                (double.Parse(fields[11]) + double.Parse(fields[12])) / ticksPerSecond,
                (double.Parse(fields[13]) + double.Parse(fields[14])) / ticksPerSecond);
        }
    }
}
