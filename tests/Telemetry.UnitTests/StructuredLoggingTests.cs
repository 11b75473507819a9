using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Telemetry.ServiceDefaults;
using Telemetry.ServiceDefaults.Logging;
using Xunit;

namespace Telemetry.UnitTests;

public sealed class StructuredLoggingTests
{
    [Fact]
    public async Task The_Seq_sink_delivers_request_logs_with_trace_ids_service_and_instance_and_leaves_probes_out()
    {
        await using var seq = await SeqListener.StartAsync();
        var traceId = "";

        await using (var service = await StartServiceAsync(new()
        {
            ["Seq:ServerUrl"] = seq.Url,
            ["Seq:ApiKey"] = "local-dev-seq-key",
            ["SERVICE_INSTANCE"] = "logging-test-1",
        }))
        {
            using var client = new HttpClient { BaseAddress = new Uri(service.Urls.Single()) };
            traceId = await client.GetStringAsync("/hello"); // the request's trace id, as the service saw it
            Assert.Matches("^[0-9a-f]{32}$", traceId);
            await client.GetAsync("/health/live");
            await client.GetAsync("/health/ready");
        } // disposing the host flushes the sink

        var events = seq.Events;
        var greeting = Assert.Single(events, e => e.GetProperty("@mt").GetString() == "Greeting {Who}");
        var requests = events.Where(e => e.GetProperty("SourceContext").GetString() == "Serilog.AspNetCore.RequestLoggingMiddleware").ToList();
        var request_ = Assert.Single(requests);
        Assert.Equal("/hello", request_.GetProperty("RequestPath").GetString());
        foreach (var logged in new[] { greeting, request_ })
        {
            Assert.Equal(traceId, logged.GetProperty("@tr").GetString());
            Assert.Equal(16, logged.GetProperty("@sp").GetString()!.Length);
            Assert.Equal("logging-test", logged.GetProperty("service").GetString());
            Assert.Equal("logging-test-1", logged.GetProperty("instance").GetString());
        }
        Assert.Equal(200, request_.GetProperty("StatusCode").GetInt32());
        Assert.True(request_.TryGetProperty("Elapsed", out _));
        Assert.All(seq.ApiKeys, key => Assert.Equal("local-dev-seq-key", key));
    }

    [Fact]
    public void Logging_LogLevel_settings_still_set_the_levels_and_the_Serilog_section_wins()
    {
        var sink = new CollectingSink();
        using var logger = Configure(new()
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Noisy"] = "Error",
            ["Serilog:MinimumLevel:Override:Chatty"] = "Debug",
        }, sink);

        logger.ForContext(Constants.SourceContextPropertyName, "Some.Category").Information("dropped");
        logger.ForContext(Constants.SourceContextPropertyName, "Some.Category").Warning("kept: default");
        logger.ForContext(Constants.SourceContextPropertyName, "Noisy.Thing").Warning("dropped");
        logger.ForContext(Constants.SourceContextPropertyName, "Chatty").Debug("kept: Serilog section");

        Assert.Equal(["kept: default", "kept: Serilog section"], sink.Events.Select(e => e.MessageTemplate.Text));
    }

    [Fact]
    public void A_misspelt_level_stops_startup_naming_the_setting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Configure(new() { ["Logging:LogLevel:Default"] = "Warnng" }, new CollectingSink()));

        Assert.Contains("Logging:LogLevel:Default", error.Message);
        Assert.Contains("Warnng", error.Message);
    }

    private static Logger Configure(Dictionary<string, string?> settings, ILogEventSink sink) =>
        StructuredLogging.Configure(
                new LoggerConfiguration(),
                new ConfigurationBuilder().AddInMemoryCollection(settings).Build(),
                new ServiceIdentity("unit-test", "unit-test-1"))
            .WriteTo.Sink(sink)
            .CreateLogger();

    private static async Task<WebApplication> StartServiceAsync(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults("logging-test");
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapGet("/hello", (ILogger<StructuredLoggingTests> log) =>
        {
            log.LogInformation("Greeting {Who}", "you");
            return Activity.Current!.TraceId.ToString();
        });
        await app.StartAsync();
        return app;
    }

    private sealed class CollectingSink : ILogEventSink
    {
        public ConcurrentQueue<LogEvent> Events { get; } = new();

        public void Emit(LogEvent logEvent) => Events.Enqueue(logEvent);
    }

    /// <summary>Stands where Seq would: accepts CLEF batches where the sink posts them (/api/events/raw) and on /ingest/clef.</summary>
    private sealed class SeqListener : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<JsonElement> _events = new();
        private readonly ConcurrentQueue<string> _apiKeys = new();

        private SeqListener(WebApplication app) => _app = app;

        public string Url => _app.Urls.Single();

        public IReadOnlyList<JsonElement> Events => [.. _events];

        public IReadOnlyList<string> ApiKeys => [.. _apiKeys];

        public static async Task<SeqListener> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var listener = new SeqListener(builder.Build());
            foreach (var path in new[] { "/api/events/raw", "/ingest/clef" })
                listener._app.MapPost(path, listener.IngestAsync);
            await listener._app.StartAsync();
            return listener;
        }

        private async Task<IResult> IngestAsync(HttpRequest request)
        {
            _apiKeys.Enqueue(request.Headers["X-Seq-ApiKey"].ToString());
            using var reader = new StreamReader(request.Body);
            while (await reader.ReadLineAsync() is { } line)
                if (line.Length > 0)
                    _events.Enqueue(JsonDocument.Parse(line).RootElement.Clone());
            return Results.Created();
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }
}
