namespace Telemetry.Testing;

/// <summary>Kills, stops and starts one node (c1, c2, c3) of the test RabbitMQ cluster tests/with-servers.sh starts.</summary>
public static class BrokerCluster
{
    public static Task KillAsync(string node) => RunAsync("kill", node);

    public static Task StopAsync(string node) => RunAsync("stop", node);

    /// <summary>Starts the node again; it rejoins the cluster with its data. Returns once it is ready.</summary>
    public static Task StartAsync(string node) => RunAsync("start", node);

    /// <summary>"c1@localhost" → "c1".</summary>
    public static string ShortName(string node) => node.Split('@')[0];

    private static async Task RunAsync(string command, string node)
    {
        var (exitCode, output) = await ControlScript.RunAsync(TestServers.RabbitMqClusterControl, $"{command} {node}");
        if (exitCode != 0)
            throw new InvalidOperationException($"Cluster control '{command} {node}' failed ({exitCode}): {output}");
    }
}
