using System.Net.Http.Headers;
using System.Text;
using Telemetry.ServiceDefaults;

namespace Telemetry.Testing;

/// <summary>A private RabbitMQ virtual host per fixture (created through the management API), with the topology deployed.</summary>
public sealed class TestBroker : IAsyncDisposable
{
    private readonly HttpClient _management;
    private readonly IAsyncDisposable _claim;

    private TestBroker(string virtualHost, HttpClient management, RabbitMqAddress address, IAsyncDisposable claim)
    {
        VirtualHost = virtualHost;
        _management = management;
        Address = address;
        _claim = claim;
    }

    public string VirtualHost { get; }
    public RabbitMqAddress Address { get; }
    /// <summary>The services' ConnectionStrings:RabbitMq: one URI, or one per node of a cluster.</summary>
    public string AmqpUri => string.Join(",", (Address.ClusterNodes.Count == 0 ? [$"{Address.Host}:{Address.Port}"] : Address.ClusterNodes)
        .Select(node => $"amqp://{Uri.EscapeDataString(Address.Username)}:{Uri.EscapeDataString(Address.Password)}@{node}/{Uri.EscapeDataString(VirtualHost)}"));

    /// <summary>The broker is shared by the whole test run: this waits while a <see cref="BrokerOutage"/> test has it down.</summary>
    public static async Task<TestBroker> CreateAsync(bool deployTopology = true) =>
        await CreateAsync(RabbitMqAddress.Parse(TestServers.RabbitMq), TestServers.RabbitMqManagement, await BrokerClaim.TakeSharedAsync(), deployTopology);

    /// <summary>
    /// A virtual host on the test cluster (<see cref="BrokerCluster"/>). The topology is declared through the first node,
    /// so both quorum queues' leaders start there; the management API used is the last node's, which tests keep up.
    /// </summary>
    public static Task<TestBroker> CreateOnClusterAsync() =>
        CreateAsync(RabbitMqAddress.Parse(TestServers.RabbitMqCluster), TestServers.RabbitMqClusterManagement.Split(',')[^1], NoClaim.Instance, deployTopology: true);

    private static async Task<TestBroker> CreateAsync(RabbitMqAddress server, string managementUrl, IAsyncDisposable claim, bool deployTopology)
    {
        var management = CreateManagementClient(managementUrl);
        var vhost = "t-" + Guid.NewGuid().ToString("N");
        var broker = new TestBroker(vhost, management, server with { VirtualHost = vhost }, claim);
        try
        {
            (await management.PutAsync($"api/vhosts/{vhost}", Json("{}"))).EnsureSuccessStatusCode();
            (await management.PutAsync($"api/permissions/{vhost}/{Uri.EscapeDataString(server.Username)}",
                Json("""{"configure":".*","write":".*","read":".*"}"""))).EnsureSuccessStatusCode();
            if (deployTopology)
                await DeployTopologyAsync(broker.Address with { ClusterNodes = [] });
            return broker;
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }
    }

    /// <summary>Up to three tries of 30 s: under load, MassTransit's deploy has been seen to hang for good (see TopologyDeployer).</summary>
    private static async Task DeployTopologyAsync(RabbitMqAddress address)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await TopologyDeployer.DeployAsync(address, timeout.Token);
                return;
            }
            catch (TimeoutException) when (attempt < 3)
            {
            }
        }
    }

    /// <summary>Messages ready plus unacknowledged in a queue of this virtual host (0 when the queue does not exist).</summary>
    public async Task<(long Ready, long Unacked)> QueueDepthAsync(string queue)
    {
        var response = await _management.GetAsync($"api/queues/{VirtualHost}/{Uri.EscapeDataString(queue)}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            return (0, 0);
        response.EnsureSuccessStatusCode();
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        long Read(string name) => json.RootElement.TryGetProperty(name, out var value) && value.ValueKind == System.Text.Json.JsonValueKind.Number ? value.GetInt64() : 0;
        return (Read("messages_ready"), Read("messages_unacknowledged"));
    }

    /// <summary>
    /// Publishes a body as it is, past MassTransit (through the management API), to an exchange of this virtual host;
    /// "" is the default exchange, where the routing key is a queue name.
    /// </summary>
    public async Task PublishRawAsync(string exchange, string routingKey, string body)
    {
        var request = System.Text.Json.JsonSerializer.Serialize(new
        {
            properties = new { content_type = "application/vnd.masstransit+json", delivery_mode = 2, message_id = Guid.NewGuid().ToString() },
            routing_key = routingKey,
            payload = body,
            payload_encoding = "string",
        });
        var name = exchange.Length == 0 ? "amq.default" : exchange;
        var response = await _management.PostAsync($"api/exchanges/{VirtualHost}/{Uri.EscapeDataString(name)}/publish", Json(request));
        response.EnsureSuccessStatusCode();
        using var result = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        if (!result.RootElement.GetProperty("routed").GetBoolean())
            throw new InvalidOperationException($"Nothing is bound to route '{routingKey}' from exchange '{name}'.");
    }

    /// <summary>
    /// Takes messages off a queue until there are <paramref name="count"/> (waiting up to a minute for them) and returns
    /// each one's MassTransit fault reason: the exception type and message headers a dead letter carries.
    /// </summary>
    public async Task<List<string>> TakeDeadLettersAsync(string queue, int count)
    {
        var reasons = await GetDeadLettersAsync(queue, count, TimeSpan.FromSeconds(60), requeue: false);
        if (reasons.Count != count)
            throw new TimeoutException($"Expected {count} dead letters in {queue}, got {reasons.Count}: {string.Join(" | ", reasons)}");
        return reasons;
    }

    /// <summary>The fault reasons of the messages in a queue right now (the management API's own counts lag by seconds), leaving them there.</summary>
    public Task<List<string>> PeekDeadLettersAsync(string queue) =>
        GetDeadLettersAsync(queue, 10_000, TimeSpan.Zero, requeue: true);

    private async Task<List<string>> GetDeadLettersAsync(string queue, int count, TimeSpan wait, bool requeue)
    {
        var reasons = new List<string>();
        var deadline = DateTime.UtcNow + wait;
        do
        {
            var request = $$"""{"count":{{count - reasons.Count}},"ackmode":"{{(requeue ? "ack_requeue_true" : "ack_requeue_false")}}","encoding":"auto"}""";
            var response = await _management.PostAsync($"api/queues/{VirtualHost}/{Uri.EscapeDataString(queue)}/get", Json(request));
            if (response.StatusCode != System.Net.HttpStatusCode.NotFound)
            {
                response.EnsureSuccessStatusCode();
                using var messages = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                foreach (var message in messages.RootElement.EnumerateArray())
                {
                    var headers = message.GetProperty("properties").TryGetProperty("headers", out var h) ? h : default;
                    string Header(string name) =>
                        headers.ValueKind == System.Text.Json.JsonValueKind.Object && headers.TryGetProperty(name, out var value) ? value.ToString() : "";
                    reasons.Add($"{Header("MT-Fault-ExceptionType")} {Header("MT-Fault-Message")}".Trim());
                }
            }
            if (reasons.Count < count && DateTime.UtcNow < deadline)
                await Task.Delay(200);
        }
        while (reasons.Count < count && DateTime.UtcNow < deadline);
        return reasons;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _management.DeleteAsync($"api/vhosts/{VirtualHost}");
        }
        finally
        {
            _management.Dispose();
            await _claim.DisposeAsync();
        }
    }

    /// <summary>The node (e.g. "c1@localhost") that leads a quorum queue of this virtual host.</summary>
    public async Task<string> QueueLeaderAsync(string queue)
    {
        using var json = System.Text.Json.JsonDocument.Parse(await _management.GetStringAsync($"api/queues/{VirtualHost}/{Uri.EscapeDataString(queue)}"));
        return json.RootElement.GetProperty("leader").GetString()!;
    }

    /// <summary>The nodes that hold a member of a quorum queue of this virtual host, and those of them online.</summary>
    public async Task<(List<string> Members, List<string> Online)> QueueMembersAsync(string queue)
    {
        using var json = System.Text.Json.JsonDocument.Parse(await _management.GetStringAsync($"api/queues/{VirtualHost}/{Uri.EscapeDataString(queue)}"));
        List<string> Names(string property) =>
            json.RootElement.TryGetProperty(property, out var nodes) ? nodes.EnumerateArray().Select(n => n.GetString()!).ToList() : [];
        return (Names("members"), Names("online"));
    }

    /// <summary>The cluster's nodes the management API reports running.</summary>
    public async Task<List<string>> RunningNodesAsync()
    {
        using var json = System.Text.Json.JsonDocument.Parse(await _management.GetStringAsync("api/nodes"));
        return json.RootElement.EnumerateArray().Where(n => n.GetProperty("running").GetBoolean()).Select(n => n.GetProperty("name").GetString()!).ToList();
    }

    private static HttpClient CreateManagementClient(string url)
    {
        var uri = new Uri(url);
        var client = new HttpClient { BaseAddress = new Uri(uri.GetLeftPart(UriPartial.Authority) + "/") };
        var userInfo = Uri.UnescapeDataString(uri.UserInfo);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(userInfo)));
        return client;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private sealed class NoClaim : IAsyncDisposable
    {
        public static readonly NoClaim Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
