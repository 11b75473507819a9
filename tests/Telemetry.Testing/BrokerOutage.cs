using Telemetry.ServiceDefaults;

namespace Telemetry.Testing;

/// <summary>
/// Stops, kills and restarts the one RabbitMQ node a test run shares (through the TELEMETRY_TEST_RABBITMQ_CONTROL
/// script). Every live <see cref="TestBroker"/> holds a shared claim on the node, in any test process of the run; an
/// outage waits for an exclusive claim, so it never pulls the broker from under another test, in this assembly or in
/// another one running at the same time. Within one assembly, put outage tests in a collection with
/// DisableParallelization: xunit runs it after the parallel ones, so only the outage test's own brokers are alive.
/// </summary>
public sealed class BrokerOutage : IAsyncDisposable
{
    private bool _down;

    private BrokerOutage()
    {
    }

    /// <summary>Waits until no other test uses the broker, then keeps them out until disposed.</summary>
    public static async Task<BrokerOutage> BeginAsync(TimeSpan timeout)
    {
        await BrokerClaim.TakeExclusiveAsync(timeout);
        return new BrokerOutage();
    }

    /// <summary>Graceful shutdown: connections are closed, then the node stops.</summary>
    public Task StopAsync() => ControlAsync("stop", down: true);

    /// <summary>A crash: the node gets SIGKILL, with whatever it was doing unfinished.</summary>
    public Task KillAsync() => ControlAsync("kill", down: true);

    /// <summary>Starts the node again (same data, same ports); returns once it accepts connections.</summary>
    public Task StartAsync() => ControlAsync("start", down: false);

    /// <summary>Brings the broker back if the test left it down, then lets the other tests in again.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_down)
                await StartAsync();
        }
        finally
        {
            await BrokerClaim.ReleaseExclusiveAsync();
        }
    }

    private async Task ControlAsync(string command, bool down)
    {
        var (exitCode, output) = await ControlScript.RunAsync(TestServers.RabbitMqControl, command);
        // The script's kill can exit 1 after the node is dead (it looks up the already killed launcher's process
        // group under pipefail): what counts is that the node is gone.
        var failed = exitCode != 0 && !(command == "kill" && !await AcceptsConnectionsAsync());
        if (failed)
            throw new InvalidOperationException($"'{TestServers.RabbitMqControl} {command}' exited with {exitCode}: {output}");
        _down = down;
    }

    private static async Task<bool> AcceptsConnectionsAsync()
    {
        var broker = RabbitMqAddress.Parse(TestServers.RabbitMq);
        using var client = new System.Net.Sockets.TcpClient();
        try
        {
            await client.ConnectAsync(broker.Host, broker.Port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}

/// <summary>
/// A reader-writer lock across the processes of one test run: an flock on a file next to the broker's control script
/// (a new folder per run), shared (LOCK_SH) while any <see cref="TestBroker"/> of this process is alive, exclusive
/// (LOCK_EX) during an outage. The kernel drops it when a process dies, so a crashed test never wedges the run.
/// </summary>
internal static class BrokerClaim
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static readonly TimeSpan SharedTimeout = TimeSpan.FromMinutes(10);
    private static int _users;
    private static FileStream? _shared;
    private static FileStream? _exclusive;

    /// <summary>Null when the broker cannot be stopped (no control script), so there is nothing to coordinate.</summary>
    private static string? LockPath =>
        Environment.GetEnvironmentVariable("TELEMETRY_TEST_RABBITMQ_CONTROL") is { Length: > 0 } control ? control + ".lock" : null;

    public static async Task<IAsyncDisposable> TakeSharedAsync()
    {
        await Gate.WaitAsync();
        try
        {
            // While this process holds the exclusive claim, its own new brokers are part of the outage test.
            if (_users++ == 0 && _exclusive is null && LockPath is { } path)
                _shared = await AcquireAsync(path, exclusive: false, SharedTimeout);
        }
        catch
        {
            _users--;
            throw;
        }
        finally
        {
            Gate.Release();
        }
        return new SharedUse();
    }

    public static async Task TakeExclusiveAsync(TimeSpan timeout)
    {
        var path = LockPath ?? throw new InvalidOperationException("TELEMETRY_TEST_RABBITMQ_CONTROL is not set: run the tests with tests/run.sh.");
        await Gate.WaitAsync();
        try
        {
            if (_exclusive is not null)
                throw new InvalidOperationException("A broker outage is already in progress in this process.");
            // This process's own brokers belong to the outage test (the collection runs alone), so drop their claim.
            _shared?.Dispose();
            _shared = null;
            _exclusive = await AcquireAsync(path, exclusive: true, timeout);
        }
        catch
        {
            if (_users > 0)
                _shared = await AcquireAsync(path, exclusive: false, SharedTimeout);
            throw;
        }
        finally
        {
            Gate.Release();
        }
    }

    public static async Task ReleaseExclusiveAsync()
    {
        await Gate.WaitAsync();
        try
        {
            _exclusive?.Dispose();
            _exclusive = null;
            if (_users > 0 && LockPath is { } path)
                _shared = await AcquireAsync(path, exclusive: false, SharedTimeout);
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task ReleaseSharedAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (--_users == 0)
            {
                _shared?.Dispose();
                _shared = null;
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>.NET takes an flock when it opens a file (LOCK_EX for FileShare.None, LOCK_SH for a read-only share), without waiting: poll.</summary>
    private static async Task<FileStream> AcquireAsync(string path, bool exclusive, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return exclusive
                    ? new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None)
                    : new FileStream(path, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite);
            }
            catch (IOException ex)
            {
                if (DateTime.UtcNow >= deadline)
                    throw new TimeoutException(
                        $"Waited {timeout.TotalSeconds:0}s for {(exclusive ? "every other test to release" : "a broker outage test to release")} the test broker ({path}).", ex);
                await Task.Delay(200);
            }
        }
    }

    private sealed class SharedUse : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                await ReleaseSharedAsync();
        }
    }
}
