using System.Diagnostics;
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

    [Theory]
    [InlineData(null, false)]
    [InlineData("http://127.0.0.1:9", true)]
    public void Spans_are_recorded_only_for_an_exporter_but_trace_ids_always_exist(string? otlpEndpoint, bool recorded)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpEndpoint });
        builder.AddServiceDefaults("unit-test");
        using var services = builder.Services.BuildServiceProvider();
        using var tracing = services.GetRequiredService<TracerProvider>();
        using var source = new ActivitySource($"{Observability.SourcePrefix}sampling-{Guid.NewGuid():N}");

        using var activity = source.StartActivity("work");

        Assert.NotNull(activity);
        Assert.NotEqual(default, activity.TraceId);
        Assert.Equal(recorded, activity.Recorded);
        Assert.Equal(recorded, activity.IsAllDataRequested);
    }
}
