using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Telemetry.Aggregator;

namespace Telemetry.LoadGen;

/// <summary>
/// The running stack as deploy/local/up.sh leaves it: URLs and secrets from .local/credentials.env, process ids from
/// .local/pids/*.pid. A consumer may run as several processes (up.sh --scale): replica 1 has SERVICE.pid, replica k
/// SERVICE-k.pid (deploy/local/lib/local.sh names them); see <see cref="Replicas"/>.
/// </summary>
/// <summary>One process of a service: its pid file's name (aggregator-2), replica number and pid.</summary>
public sealed record Replica(string Service, string Name, int Index, int Pid)
{
    /// <summary>SERVICE_INSTANCE from its environment (up.sh sets NAME@local), as in rollup_state and audit rows.</summary>
    public string? Instance => LocalStack.EnvironmentOf(Pid, "SERVICE_INSTANCE");

    /// <summary>Its base URL, from ASPNETCORE_URLS in its environment.</summary>
    public Uri? Url => LocalStack.EnvironmentOf(Pid, "ASPNETCORE_URLS")?.Split(';')[0] is { Length: > 0 } url
                       && Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var uri) ? uri : null;
}

public sealed class LocalStack
{
    public static readonly string[] Services = ["attempts-api", "stats-api", "event-ingestor", "aggregator"];

    private readonly IReadOnlyDictionary<string, string> _values;

    private LocalStack(string localDir, IReadOnlyDictionary<string, string> values)
    {
        LocalDir = localDir;
        _values = values;
    }

    public string LocalDir { get; }
    public Uri AttemptsUrl => new(Require("ATTEMPTS_URL").TrimEnd('/') + "/");
    public Uri StatsUrl => new(Require("STATS_URL").TrimEnd('/') + "/");
    public string AdminKey => Require("ADMIN_KEY");
    public string StatsApiKey => Require("STATS_API_KEY");
    public string RabbitMqUrl => Require("RABBITMQ_URL");
    public Uri RabbitMqManagementUrl => new(Require("RABBITMQ_MANAGEMENT_URL").TrimEnd('/') + "/");
    public string RabbitMqUser => Require("RABBITMQ_USER");
    public string RabbitMqPassword => Require("RABBITMQ_PASSWORD");
    public string JwtIssuer => Require("JWT_ISSUER");
    public string JwtAudience => Require("JWT_AUDIENCE");
    public string JwtSigningKey => Require("JWT_SIGNING_KEY");
    public string JwtWalletClaim => Require("JWT_WALLET_CLAIM");

    /// <summary>DATABASE_URL (postgresql://user:password@host:port/db, a role that reads every table) for Npgsql.</summary>
    public string DatabaseConnectionString
    {
        get
        {
            var url = new Uri(Require("DATABASE_URL"));
            var user = url.UserInfo.Split(':', 2);
            return $"Host={url.Host};Port={url.Port};Database={url.AbsolutePath.Trim('/')};Username={Uri.UnescapeDataString(user[0])};"
                   + $"Password={Uri.UnescapeDataString(user.ElementAtOrDefault(1) ?? "")};Pooling=true;Maximum Pool Size=8;Application Name=loadgen";
        }
    }

    public static LocalStack Load(string localDir)
    {
        var file = Path.Combine(localDir, "credentials.env");
        if (!File.Exists(file))
            throw new InvalidOperationException($"{file} not found: start the stack with deploy/local/up.sh first");
        var values = File.ReadLines(file)
            .Where(l => l.Length > 0 && !l.StartsWith('#') && l.Contains('='))
            .Select(l => l.Split('=', 2))
            .ToDictionary(kv => kv[0].Trim(), kv => kv[1].Trim());
        return new LocalStack(Path.GetFullPath(localDir), values);
    }

    private string Require(string key) =>
        _values.TryGetValue(key, out var value) && value.Length > 0 ? value : throw new InvalidOperationException($"{key} is missing from credentials.env");

    /// <summary>The pid recorded for a service (or postgres, rabbitmq) if that process still runs.</summary>
    public int? Pid(string name)
    {
        var file = Path.Combine(LocalDir, "pids", name + ".pid");
        if (!File.Exists(file) || !int.TryParse(File.ReadLines(file).FirstOrDefault()?.Trim(), out var pid))
            return null;
        return Directory.Exists($"/proc/{pid}") ? pid : null;
    }

    /// <summary>
    /// The live processes of a service, by replica number: SERVICE.pid, then SERVICE-2.pid, SERVICE-3.pid… (up.sh --scale).
    /// Other files in pids/ (supervisors, other services) are ignored.
    /// </summary>
    public IReadOnlyList<Replica> Replicas(string service)
    {
        var dir = Path.Combine(LocalDir, "pids");
        if (!Directory.Exists(dir))
            return [];
        var found = new List<Replica>();
        foreach (var file in Directory.EnumerateFiles(dir, service + "*.pid"))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            var index = name == service ? 1
                : name.StartsWith(service + "-", StringComparison.Ordinal)
                  && int.TryParse(name.AsSpan(service.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k >= 2 ? k
                : 0;
            if (index > 0 && Pid(name) is { } pid)
                found.Add(new Replica(service, name, index, pid));
        }
        return found.OrderBy(r => r.Index).ToList();
    }

    /// <summary>Every live process of the four services, replicas included, in <see cref="Services"/> order.</summary>
    public IReadOnlyList<Replica> AllReplicas() => Services.SelectMany(Replicas).ToList();

    /// <summary>A variable from a process's environment (/proc/PID/environ), or null.</summary>
    public static string? EnvironmentOf(int pid, string key)
    {
        try
        {
            foreach (var entry in File.ReadAllText($"/proc/{pid}/environ").Split('\0'))
                if (entry.StartsWith(key + "=", StringComparison.Ordinal))
                    return entry[(key.Length + 1)..];
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>The aggregator's flush interval from its environment, else the service default.</summary>
    public TimeSpan AggregatorFlushInterval() =>
        Pid("aggregator") is { } pid && EnvironmentOf(pid, "AggregatorOptions__FlushInterval") is { } text
        && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var interval)
            ? interval
            : new AggregatorOptions().FlushInterval;

    public HttpClient ManagementClient()
    {
        var http = new HttpClient { BaseAddress = RabbitMqManagementUrl, Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{RabbitMqUser}:{RabbitMqPassword}")));
        return http;
    }

    /// <summary>Messages (ready + unacked) in a queue of the default vhost, or -1 when unknown.</summary>
    public static async Task<long> QueueDepthAsync(HttpClient management, string queue, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await management.GetAsync($"api/queues/%2F/{Uri.EscapeDataString(queue)}", cancellationToken);
            if (!response.IsSuccessStatusCode)
                return -1;
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            return json.RootElement.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Number ? messages.GetInt64() : -1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            return -1;
        }
    }
}
