using System.ComponentModel.DataAnnotations;
using Telemetry.ServiceDefaults;
using Xunit;

namespace Telemetry.UnitTests;

public sealed class BusWatchdogPolicyTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(30);

    private static BusWatchdogPolicy Policy(int maxRestarts = 2) => new(new BusWatchdogOptions { UnhealthyFor = Period, MaxRestarts = maxRestarts });

    [Fact]
    public void A_healthy_bus_is_left_alone()
    {
        var policy = Policy();
        for (var s = 0; s <= 600; s += 5)
            Assert.Equal(WatchdogVerdict.Wait, policy.Observe(Start.AddSeconds(s), busHealthy: true, brokerReachable: true));
    }

    [Fact]
    public void An_unhealthy_bus_is_left_alone_while_RabbitMQ_is_unreachable_however_long()
    {
        var policy = Policy();
        for (var s = 0; s <= 600; s += 5)
            Assert.Equal(WatchdogVerdict.Wait, policy.Observe(Start.AddSeconds(s), busHealthy: false, brokerReachable: false));
    }

    [Fact]
    public void A_bus_unhealthy_for_the_whole_period_while_RabbitMQ_is_reachable_is_restarted_once_per_period()
    {
        var policy = Policy();
        Assert.Equal(WatchdogVerdict.Wait, policy.Observe(Start, false, true));
        Assert.Equal(WatchdogVerdict.Wait, policy.Observe(Start + Period - TimeSpan.FromSeconds(1), false, true));
        Assert.Equal(WatchdogVerdict.Restart, policy.Observe(Start + Period, false, true));
        Assert.Equal(1, policy.Restarts);

        // The restart gets a full period of its own.
        Assert.Equal(WatchdogVerdict.Wait, policy.Observe(Start + Period + TimeSpan.FromSeconds(1), false, true));
        Assert.Equal(WatchdogVerdict.Wait, policy.Observe(Start + 2 * Period, false, true));
        Assert.Equal(WatchdogVerdict.Restart, policy.Observe(Start + 3 * Period + TimeSpan.FromSeconds(1), false, true));
        Assert.Equal(2, policy.Restarts);
    }

    [Fact]
    public void The_clock_starts_when_RabbitMQ_is_back_not_when_the_bus_went_down()
    {
        var policy = Policy();
        Assert.Equal(WatchdogVerdict.Wait, policy.Observe(Start, false, false));
        Assert.Equal(WatchdogVerdict.Wait, policy.Observe(Start + 2 * Period, false, true));
        Assert.Equal(WatchdogVerdict.Wait, policy.Observe(Start + 3 * Period - TimeSpan.FromSeconds(1), false, true));
        Assert.Equal(WatchdogVerdict.Restart, policy.Observe(Start + 3 * Period, false, true));
    }

    [Fact]
    public void A_moment_of_health_or_of_an_unreachable_broker_starts_the_period_again()
    {
        var policy = Policy();
        policy.Observe(Start, false, true);
        Assert.Equal(WatchdogVerdict.Wait, policy.Observe(Start + Period / 2, true, true));
        Assert.Equal(WatchdogVerdict.Wait, policy.Observe(Start + Period, false, true));
        Assert.Equal(WatchdogVerdict.Wait, policy.Observe(Start + Period * 1.5, false, false));
        Assert.Equal(WatchdogVerdict.Wait, policy.Observe(Start + Period * 2, false, true));
        Assert.Equal(WatchdogVerdict.Wait, policy.Observe(Start + Period * 3 - TimeSpan.FromSeconds(1), false, true));
        Assert.Equal(WatchdogVerdict.Restart, policy.Observe(Start + Period * 3, false, true));
    }

    [Fact]
    public void After_the_last_allowed_restart_leaves_the_bus_stuck_the_process_exits_and_health_resets_the_count()
    {
        var policy = Policy(maxRestarts: 1);
        policy.Observe(Start, false, true);
        Assert.Equal(WatchdogVerdict.Restart, policy.Observe(Start + Period, false, true));
        policy.Observe(Start + Period + TimeSpan.FromSeconds(1), false, true);
        Assert.Equal(WatchdogVerdict.Exit, policy.Observe(Start + 2 * Period + TimeSpan.FromSeconds(1), false, true));

        var recovered = Policy(maxRestarts: 1);
        recovered.Observe(Start, false, true);
        Assert.Equal(WatchdogVerdict.Restart, recovered.Observe(Start + Period, false, true));
        recovered.Observe(Start + Period + TimeSpan.FromSeconds(1), true, true);
        Assert.Equal(0, recovered.Restarts);
        recovered.Observe(Start + 2 * Period, false, true);
        Assert.Equal(WatchdogVerdict.Restart, recovered.Observe(Start + 3 * Period, false, true));
    }

    [Fact]
    public void No_restarts_allowed_means_exit_at_the_first_stuck_period()
    {
        var policy = Policy(maxRestarts: 0);
        policy.Observe(Start, false, true);
        Assert.Equal(WatchdogVerdict.Exit, policy.Observe(Start + Period, false, true));
    }

    [Theory]
    [InlineData("00:00:30", "00:00:05", true)]
    [InlineData("00:00:05", "00:00:05", false)]
    [InlineData("00:00:00.500", "00:00:00.100", false)]
    [InlineData("00:00:30", "00:00:00.050", false)]
    public void The_options_are_validated(string unhealthyFor, string checkInterval, bool valid)
    {
        var options = new BusWatchdogOptions { UnhealthyFor = TimeSpan.Parse(unhealthyFor), CheckInterval = TimeSpan.Parse(checkInterval) };
        var results = new List<ValidationResult>();
        Assert.Equal(valid, Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
    }
}
