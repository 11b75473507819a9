namespace Telemetry.Testing;

/// <summary>
/// Stops, kills and restarts the PostgreSQL server that only database outage tests use
/// (<see cref="TestServers.OutagePostgresAdmin"/>). Every test that takes it down belongs to one xunit collection, so
/// they never pull it from under each other, and no other test uses that server.
/// </summary>
public sealed class DatabaseOutage : IAsyncDisposable
{
    private bool _down;

    /// <summary>Fast shutdown: sessions are terminated (SQLSTATE 57P01), then the server stops.</summary>
    public Task StopAsync() => ControlAsync("stop", down: true);

    /// <summary>A crash: SIGKILL to the postmaster, with whatever it was doing unfinished.</summary>
    public Task KillAsync() => ControlAsync("kill", down: true);

    /// <summary>Starts the server again (same data, same port); returns once it accepts connections.</summary>
    public Task StartAsync() => ControlAsync("start", down: false);

    /// <summary>Brings the server back if the test left it down.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_down)
            await StartAsync();
    }

    private async Task ControlAsync(string command, bool down)
    {
        var (exitCode, output) = await ControlScript.RunAsync(TestServers.OutagePostgresControl, command);
        if (exitCode != 0)
            throw new InvalidOperationException($"'{TestServers.OutagePostgresControl} {command}' exited with {exitCode}: {output}");
        _down = down;
    }
}
