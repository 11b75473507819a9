using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace Telemetry.Testing.Bench;

/// <summary>CPU time spent by this process, the test PostgreSQL server (all its processes) and the test RabbitMQ node.</summary>
public readonly record struct CpuTime(TimeSpan Bench, TimeSpan Postgres, TimeSpan RabbitMq)
{
    public TimeSpan Total => Bench + Postgres + RabbitMq;

    public static CpuTime operator -(CpuTime a, CpuTime b) => new(a.Bench - b.Bench, a.Postgres - b.Postgres, a.RabbitMq - b.RabbitMq);
}

/// <summary>
/// Reads CPU time from /proc. On a shared, busy machine wall-clock rates swing with other people's load, while the CPU
/// a piece of work costs stays put: a benchmark reports both, and the split shows where the time goes.
/// </summary>
public sealed class CpuMeter
{
    private readonly int _postmasterPid;
    private readonly int _rabbitMqPid;

    private CpuMeter(int postmasterPid, int rabbitMqPid)
    {
        _postmasterPid = postmasterPid;
        _rabbitMqPid = rabbitMqPid;
    }

    /// <summary>Finds the servers of <see cref="TestServers"/>: the parent of a backend, and the node's OS process.</summary>
    public static async Task<CpuMeter> CreateAsync()
    {
        await using var connection = new NpgsqlConnection(TestServers.PostgresAdmin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
        var backend = (int)(await command.ExecuteScalarAsync())!;
        var postmaster = ProcessCpu.ParentOf(backend) ?? throw new InvalidOperationException($"PostgreSQL backend {backend} is not visible in /proc");

        var uri = new Uri(TestServers.RabbitMqManagement);
        using var http = new HttpClient { BaseAddress = new Uri(uri.GetLeftPart(UriPartial.Authority) + "/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(uri.UserInfo))));
        using var nodes = JsonDocument.Parse(await http.GetStringAsync("api/nodes"));
        var beam = int.Parse(nodes.RootElement[0].GetProperty("os_pid").GetString()!);
        return new CpuMeter(postmaster, beam);
    }

    public CpuTime Now()
    {
        using var self = Process.GetCurrentProcess();
        return new CpuTime(self.TotalProcessorTime, ProcessCpu.WithLiveChildren(_postmasterPid), ProcessCpu.WithReapedChildren(_rabbitMqPid));
    }
}
