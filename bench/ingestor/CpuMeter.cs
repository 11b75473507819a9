using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace Telemetry.Bench.Ingestor;

/// <summary>CPU time spent by this process, the PostgreSQL server (all its processes) and the RabbitMQ node.</summary>
public readonly record struct CpuTime(TimeSpan Bench, TimeSpan Postgres, TimeSpan RabbitMq)
{
    public TimeSpan Total => Bench + Postgres + RabbitMq;

    public static CpuTime operator -(CpuTime a, CpuTime b) => new(a.Bench - b.Bench, a.Postgres - b.Postgres, a.RabbitMq - b.RabbitMq);
}

/// <summary>
/// Reads CPU time from /proc. On a shared, busy machine wall-clock rates swing with other people's load, while the CPU
/// a piece of work costs stays put: the report shows both, and the split shows where the time goes.
/// </summary>
public sealed class CpuMeter(int postmasterPid, int rabbitMqPid)
{
    private static readonly double TicksPerSecond = 100; // USER_HZ, 100 on Linux

    public static async Task<CpuMeter> CreateAsync(string postgresAdmin, string rabbitMqManagement)
    {
        await using var connection = new NpgsqlConnection(postgresAdmin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
        var backend = (int)(await command.ExecuteScalarAsync())!;

        var uri = new Uri(rabbitMqManagement);
        using var http = new HttpClient { BaseAddress = new Uri(uri.GetLeftPart(UriPartial.Authority) + "/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(uri.UserInfo))));
        using var nodes = JsonDocument.Parse(await http.GetStringAsync("api/nodes"));
        var beam = int.Parse(nodes.RootElement[0].GetProperty("os_pid").GetString()!);
        return new CpuMeter(Stat(backend).ParentPid, beam);
    }

    public CpuTime Now()
    {
        using var self = Process.GetCurrentProcess();
        var postgres = Stat(postmasterPid).WithChildren;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), out var pid) && pid != postmasterPid && TryStat(pid) is { } child && child.ParentPid == postmasterPid)
                postgres += child.Own;
        return new CpuTime(self.TotalProcessorTime, postgres, Stat(rabbitMqPid).WithChildren);
    }

    private static ProcStat Stat(int pid) => TryStat(pid) ?? throw new InvalidOperationException($"process {pid} is gone");

    private static ProcStat? TryStat(int pid)
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
        return new ProcStat(int.Parse(fields[1]), Ticks(11) + Ticks(12), Ticks(13) + Ticks(14));
    }

    private sealed record ProcStat(int ParentPid, TimeSpan Own, TimeSpan ReapedChildren)
    {
        public TimeSpan WithChildren => Own + ReapedChildren;
    }
}
