using System.Diagnostics;
using System.Net;
using Telemetry.Testing;
using Xunit;
using static Telemetry.StatsApi.Tests.HttpAssert;

namespace Telemetry.StatsApi.Tests;

/// <summary>`setup dashboard-key …` as operators run it (the real executable, admin connection), against the real API.</summary>
public sealed class DashboardKeyCommandTests(StatsApiFixture fixture) : IClassFixture<StatsApiFixture>
{
    [Fact]
    public async Task Add_prints_a_new_key_once_that_the_api_accepts_and_stores_only_its_hash()
    {
        var added = await SetupAsync("dashboard-key", "add", "grafana");

        Assert.Equal(0, added.ExitCode);
        var key = Assert.Single(added.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches("^tdk_[A-Za-z0-9_-]{43}$", key);
        Assert.Contains("only this once", added.Stderr);
        await OkJsonAsync(await fixture.Client(key).GetAsync("/api/stats/tracks"));
        Assert.True(await fixture.Database.ScalarAsync<bool>(
            "SELECT sha256 = sha256(convert_to($1, 'UTF8')) FROM dashboard_api_keys WHERE name = 'grafana'", key));
    }

    [Fact]
    public async Task Add_refuses_a_name_in_use_and_a_malformed_name()
    {
        Assert.Equal(0, (await SetupAsync("dashboard-key", "add", "twice")).ExitCode);

        var again = await SetupAsync("dashboard-key", "add", "twice");
        var malformed = await SetupAsync("dashboard-key", "add", "no spaces please");

        Assert.Equal((1, ""), (again.ExitCode, again.Stdout));
        Assert.Contains("already exists", again.Stderr);
        Assert.Equal((1, ""), (malformed.ExitCode, malformed.Stdout));
        Assert.Contains("not a valid key name", malformed.Stderr);
    }

    [Fact]
    public async Task Revoke_turns_the_key_into_a_403_within_the_refresh_interval_and_list_shows_it()
    {
        var key = (await SetupAsync("dashboard-key", "add", "kiosk")).Stdout.Trim();
        await OkJsonAsync(await fixture.Client(key).GetAsync("/api/stats/tracks"));

        var revoked = await SetupAsync("dashboard-key", "revoke", "kiosk");
        var listed = await SetupAsync("dashboard-key", "list");

        Assert.Equal(0, revoked.ExitCode);
        await Eventually.Until(async () => (await fixture.Client(key).GetAsync("/api/stats/tracks")).StatusCode,
            status => status == HttpStatusCode.Forbidden, TimeSpan.FromSeconds(5), "the revoked key to be refused");
        Assert.Equal(0, listed.ExitCode);
        Assert.Matches(@"(?m)^kiosk\s+revoked\s", listed.Stdout);
        Assert.Matches(@"(?m)^dashboard-a\s+active\s", listed.Stdout);
        Assert.DoesNotContain(key, listed.Stdout);
        Assert.Contains("already revoked", (await SetupAsync("dashboard-key", "revoke", "kiosk")).Stderr);
        Assert.Equal(1, (await SetupAsync("dashboard-key", "revoke", "no-such-key")).ExitCode);
    }

    [Fact]
    public async Task Ensure_registers_the_key_from_the_environment_once_and_reports_conflicts()
    {
        const string key = "ensured-dashboard-key-0123456789";
        var environment = new Dictionary<string, string> { ["DASHBOARD_API_KEY"] = key };

        var first = await SetupAsync(environment, "dashboard-key", "ensure", "compose-dashboard");
        var second = await SetupAsync(environment, "dashboard-key", "ensure", "compose-dashboard");
        var otherName = await SetupAsync(environment, "dashboard-key", "ensure", "compose-dashboard-2");
        var otherKey = await SetupAsync(new Dictionary<string, string> { ["DASHBOARD_API_KEY"] = key + "-different" }, "dashboard-key", "ensure", "compose-dashboard");
        var noKey = await SetupAsync(new Dictionary<string, string> { ["DASHBOARD_API_KEY"] = "" }, "dashboard-key", "ensure", "compose-dashboard");

        Assert.Equal((0, 0), (first.ExitCode, second.ExitCode));
        Assert.Contains("added", first.Stderr);
        Assert.Contains("already present", second.Stderr);
        Assert.Equal((3, 3, 1), (otherName.ExitCode, otherKey.ExitCode, noKey.ExitCode));
        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM dashboard_api_keys WHERE name LIKE 'compose-dashboard%'"));
        await OkJsonAsync(await fixture.Client(key).GetAsync("/api/stats/tracks"));

        await SetupAsync("dashboard-key", "revoke", "compose-dashboard");
        var revoked = await SetupAsync(environment, "dashboard-key", "ensure", "compose-dashboard");
        Assert.Equal(3, revoked.ExitCode);
        Assert.Contains("revoked", revoked.Stderr);
    }

    [Theory]
    [InlineData("dashboard-key")]
    [InlineData("dashboard-key", "remove", "x")]
    [InlineData("dashboard-key", "add")]
    public async Task A_wrong_command_prints_the_usage(params string[] args)
    {
        var result = await SetupAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("setup dashboard-key add NAME", result.Stderr);
    }

    private Task<SetupResult> SetupAsync(params string[] args) => SetupAsync([], args);

    /// <summary>Runs the setup tool (copied next to the tests by the project reference) with the admin connection.</summary>
    private async Task<SetupResult> SetupAsync(Dictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Telemetry.Setup.dll"));
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment["ConnectionStrings__Admin"] = fixture.Database.AdminConnectionString;
        start.Environment.Remove("DASHBOARD_API_KEY");
        foreach (var (name, value) in environment)
            start.Environment[name] = value;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new SetupResult(process.ExitCode, await stdout, await stderr);
    }

    private sealed record SetupResult(int ExitCode, string Stdout, string Stderr);
}
