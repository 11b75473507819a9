using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Telemetry.ServiceDefaults;

public static class Observability
{
    /// <summary>Activity sources and meters of our own code: every service names its own SourcePrefix + its service name.</summary>
    public const string SourcePrefix = "Telemetry.";

    /// <summary>MassTransit's activity source and meter (DiagnosticHeaders.DefaultListenerName, InstrumentationOptions.MeterName).</summary>
    private const string MassTransit = "MassTransit";

    /// <summary>
    /// OpenTelemetry traces and metrics: ASP.NET Core, HttpClient, runtime, Npgsql, MassTransit and our own sources and
    /// meters. Exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; metrics are also scraped from /metrics.
    /// </summary>
    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder, ServiceIdentity identity)
    {
        builder.Services.AddValidatedOptions<MetricsOptions>();
        // The specification's switch: no traces or metrics at all (logs stay).
        if (IsSdkDisabled(builder.Configuration))
            return builder;

        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var prometheus = builder.Configuration.GetSection(nameof(MetricsOptions)).Get<MetricsOptions>()?.Prometheus ?? true;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(identity.Name, serviceInstanceId: identity.Instance))
            .WithTracing(tracing =>
            {
                tracing
                    .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsProbe(context.Request.Path))
                    .AddHttpClientInstrumentation()
                    .AddNpgsql()
                    .AddSource(MassTransit)
                    .AddSource(SourcePrefix + "*");
                if (otlp)
                    tracing.AddOtlpExporter();
                else
                    // Nobody would read recorded spans: drop them. Dropped activities still exist and propagate their
                    // context, so logs keep real trace ids and traceparent still crosses HTTP and the broker.
                    tracing.SetSampler(new AlwaysOffSampler());
            })
            .WithMetrics(metrics =>
            {
                metrics
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddNpgsqlInstrumentation()
                    .AddMeter(MassTransit)
                    // This service's meter only: where several services share a process (tests), each /metrics stays its own.
                    .AddMeter(SourcePrefix + identity.Name);
                // Meters are matched by name across the process: where several hosts share one (tests), another host's
                // factory-made meters (ours, ASP.NET Core's) would report into this one's /metrics. Each keeps its own.
                ((IDeferredMeterProviderBuilder)metrics).Configure((services, builder) =>
                {
                    var own = services.GetRequiredService<IMeterFactory>();
                    builder.AddView(instrument => instrument.Meter.Scope is IMeterFactory scope && !ReferenceEquals(scope, own)
                        ? MetricStreamConfiguration.Drop
                        : null);
                });
                if (prometheus)
                    metrics.AddPrometheusExporter();
                // Seq ingests OTLP traces but not metrics: OTEL_METRICS_EXPORTER=none turns metrics export off.
                if (otlp && !string.Equals(builder.Configuration["OTEL_METRICS_EXPORTER"], "none", StringComparison.OrdinalIgnoreCase))
                    metrics.AddOtlpExporter();
            });
        return builder;
    }

    /// <summary>GET /metrics in Prometheus' text format, unless MetricsOptions__Prometheus=false or the SDK is off.</summary>
    public static WebApplication MapMetrics(this WebApplication app)
    {
        if (!IsSdkDisabled(app.Configuration) && app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value.Prometheus)
            app.MapPrometheusScrapingEndpoint(MetricsOptions.ScrapePath);
        return app;
    }

    public static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments(MetricsOptions.ScrapePath);

    public static ActivitySource CreateSource(string serviceName) => new(SourcePrefix + serviceName);

    private static bool IsSdkDisabled(IConfiguration configuration) =>
        string.Equals(configuration["OTEL_SDK_DISABLED"], "true", StringComparison.OrdinalIgnoreCase);
}
