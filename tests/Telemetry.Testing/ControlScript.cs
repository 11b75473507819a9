using System.Diagnostics;

namespace Telemetry.Testing;

/// <summary>Runs one of the server control scripts tests/with-servers.sh writes ("stop", "kill" or "start").</summary>
internal static class ControlScript
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string script, string command)
    {
        using var process = Process.Start(new ProcessStartInfo(script, command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException($"Could not run {script}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await errors);
    }
}
