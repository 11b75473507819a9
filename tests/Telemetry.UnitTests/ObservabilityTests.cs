using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Telemetry.ServiceDefaults;
using Xunit;

namespace Telemetry.UnitTests;

public sealed class ObservabilityTests
{
    [Theory]
    [InlineData(null, true)]
    [InlineData("false", true)]
    [InlineData("true", false)]
    [InlineData("TRUE", false)]
    public void OTEL_SDK_DISABLED_true_turns_traces_and_metrics_off(string? disabled, bool registered)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["OTEL_SDK_DISABLED"] = disabled });

        builder.AddServiceDefaults("unit-test");

        Assert.Equal(registered, builder.Services.Any(s => s.ServiceType == typeof(TracerProvider)));
        Assert.Equal(registered, builder.Services.Any(s => s.ServiceType == typeof(MeterProvider)));
    }
}
