using Telemetry.Testing;
using Xunit;

namespace Telemetry.UnitTests;

public sealed class TestServerSelectionTests
{
    private static readonly Dictionary<string, string?> AllSet = TestServerSelection.SeamVariables.ToDictionary(v => v, string? (_) => "set");

    [Fact]
    public void The_servers_named_by_the_environment_are_used_and_Docker_is_never_asked()
    {
        var source = TestServerSelection.Choose(name => AllSet.GetValueOrDefault(name), () => throw new InvalidOperationException("asked"));

        Assert.Equal(TestServerSource.Environment, source);
    }

    [Fact]
    public void Without_the_variables_a_Docker_engine_that_answers_means_containers()
    {
        Assert.Equal(TestServerSource.Containers, TestServerSelection.Choose(_ => null, () => true));
        Assert.Equal(TestServerSource.Containers, TestServerSelection.Choose(_ => "", () => true));
    }

    [Fact]
    public void Without_the_variables_or_Docker_the_error_names_both_ways()
    {
        var error = Assert.Throws<InvalidOperationException>(() => TestServerSelection.Choose(_ => null, () => false));

        Assert.Contains("tests/run.sh", error.Message);
        Assert.Contains("Docker", error.Message);
        Assert.Contains("TELEMETRY_TEST_POSTGRES", error.Message);
    }

    [Fact]
    public void Some_variables_but_not_all_are_refused_rather_than_mixed_with_containers()
    {
        var partial = new Dictionary<string, string?> { ["TELEMETRY_TEST_POSTGRES"] = "set" };

        var error = Assert.Throws<InvalidOperationException>(() => TestServerSelection.Choose(name => partial.GetValueOrDefault(name), () => true));

        Assert.Contains("TELEMETRY_TEST_RABBITMQ", error.Message);
    }
}
