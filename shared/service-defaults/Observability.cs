using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Telemetry.ServiceDefaults;

public static class Observability
{
    /// <summary>Activity sources and meters of our own code; every service names its own under this prefix.</summary>
    public const string SourcePrefix = "Telemetry.";

    private static readonly string[] FrameworkSources = ["Microsoft.AspNetCore", "System.Net.Http", "MassTransit", "Npgsql"];
    private static readonly string[] FrameworkMeters =
        ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime", "MassTransit", "Npgsql"];

    /// <summary>
    /// OpenTelemetry traces and metrics, exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    /// </summary>
    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder, string serviceName)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var resource = ResourceBuilder.CreateDefault().AddService(serviceName, serviceInstanceId: ServiceIdentity.Create(serviceName, builder.Configuration["SERVICE_INSTANCE"]).Instance);

        // The specification's switch: no traces or metrics at all (logs stay).
        if (string.Equals(builder.Configuration["OTEL_SDK_DISABLED"], "true", StringComparison.OrdinalIgnoreCase))
            return builder;

        var tracing = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(FrameworkSources)
            .AddSource(SourcePrefix + "*");
        var metrics = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(FrameworkMeters)
            .AddMeter(SourcePrefix + "*");
        if (otlp)
        {
            tracing.AddOtlpExporter();
            // Seq ingests OTLP logs and traces but not metrics: OTEL_METRICS_EXPORTER=none turns metrics export off.
            if (!string.Equals(builder.Configuration["OTEL_METRICS_EXPORTER"], "none", StringComparison.OrdinalIgnoreCase))
                metrics.AddOtlpExporter();
        }
        else
        {
            // Nobody would read recorded spans: drop them. Dropped activities still exist and propagate their context,
            // so logs keep real trace ids and traceparent still crosses HTTP and the broker.
            tracing.SetSampler(new AlwaysOffSampler());
        }

        // Factories (not instances) so the container disposes and flushes them; the activator builds them at start.
        builder.Services.AddSingleton(_ => tracing.Build());
        builder.Services.AddSingleton(_ => metrics.Build());
        builder.Services.AddHostedService<TelemetryProvidersActivator>();
        return builder;
    }

    private sealed class TelemetryProvidersActivator(TracerProvider tracer, MeterProvider meter) : Microsoft.Extensions.Hosting.IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            tracer.ForceFlush(2000);
            meter.ForceFlush(2000);
            return Task.CompletedTask;
        }
    }

    public static ActivitySource CreateSource(string serviceName) => new(SourcePrefix + serviceName);
}
