using System.Net.Http.Headers;
using System.Text;
using Telemetry.ServiceDefaults;

namespace Telemetry.Testing;

/// <summary>A private RabbitMQ virtual host per fixture (created through the management API), with the topology deployed.</summary>
public sealed class TestBroker : IAsyncDisposable
{
    private readonly HttpClient _management;

    private TestBroker(string virtualHost, HttpClient management, RabbitMqAddress address)
    {
        VirtualHost = virtualHost;
        _management = management;
        Address = address;
    }

    public string VirtualHost { get; }
    public RabbitMqAddress Address { get; }
    public string AmqpUri => $"amqp://{Uri.EscapeDataString(Address.Username)}:{Uri.EscapeDataString(Address.Password)}@{Address.Host}:{Address.Port}/{Uri.EscapeDataString(VirtualHost)}";

    public static async Task<TestBroker> CreateAsync(bool deployTopology = true)
    {
        var server = RabbitMqAddress.Parse(TestServers.RabbitMq);
        var management = CreateManagementClient();
        var vhost = "t-" + Guid.NewGuid().ToString("N");
        (await management.PutAsync($"api/vhosts/{vhost}", Json("{}"))).EnsureSuccessStatusCode();
        (await management.PutAsync($"api/permissions/{vhost}/{Uri.EscapeDataString(server.Username)}",
            Json("""{"configure":".*","write":".*","read":".*"}"""))).EnsureSuccessStatusCode();

        var broker = new TestBroker(vhost, management, server with { VirtualHost = vhost });
        if (deployTopology)
            await TopologyDeployer.DeployAsync(broker.Address, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        return broker;
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

    public async ValueTask DisposeAsync()
    {
        await _management.DeleteAsync($"api/vhosts/{VirtualHost}");
        _management.Dispose();
    }

    private static HttpClient CreateManagementClient()
    {
        var uri = new Uri(TestServers.RabbitMqManagement);
        var client = new HttpClient { BaseAddress = new Uri(uri.GetLeftPart(UriPartial.Authority) + "/") };
        var userInfo = Uri.UnescapeDataString(uri.UserInfo);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(userInfo)));
        return client;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
