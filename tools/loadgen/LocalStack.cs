using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Telemetry.Aggregator;

namespace Telemetry.LoadGen;

/// <summary>
/// The running stack as deploy/local/up.sh leaves it: URLs and secrets from .local/credentials.env, process ids from
/// .local/pids/*.pid.
/// </summary>
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

    /// <summary>The aggregator's flush interval from its environment, else the service default.</summary>
    public TimeSpan AggregatorFlushInterval()
    {
        if (Pid("aggregator") is { } pid)
        {
            try
            {
                foreach (var entry in File.ReadAllText($"/proc/{pid}/environ").Split('\0'))
                    if (entry.StartsWith("AggregatorOptions__FlushInterval=", StringComparison.Ordinal)
                        && TimeSpan.TryParse(entry[(entry.IndexOf('=') + 1)..], System.Globalization.CultureInfo.InvariantCulture, out var interval))
                        return interval;
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return new AggregatorOptions().FlushInterval;
    }

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
