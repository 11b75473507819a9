using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Telemetry.ServiceDefaults.Logging;

/// <summary>
/// Serilog: compact JSON lines (CLEF) on stdout with trace and span ids and the service and instance names, plus Seq
/// when <c>Seq__ServerUrl</c> is set. Levels come from <c>Logging__LogLevel__…</c> (as before Serilog) and then the
/// <c>Serilog</c> section, which wins and may add sinks and enrichers.
/// </summary>
public static class StructuredLogging
{
    public static WebApplicationBuilder AddStructuredLogging(this WebApplicationBuilder builder, ServiceIdentity identity)
    {
        // Each host (tests run many in one process) owns its logger; the static Log.Logger is left alone.
        builder.Services.AddSerilog(logger => Configure(logger, builder.Configuration, identity), preserveStaticLogger: true);
        return builder;
    }

    public static LoggerConfiguration Configure(LoggerConfiguration logger, IConfiguration configuration, ServiceIdentity identity)
    {
        // Framework chatter stays at Warning unless configuration says otherwise.
        logger.MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.EntityFrameworkCore", LogEventLevel.Warning);
        foreach (var (category, level) in LevelsFromLoggingSection(configuration))
            if (category == "Default")
                logger.MinimumLevel.Is(level);
            else
                logger.MinimumLevel.Override(category, level);

        logger.ReadFrom.Configuration(configuration)
            .Enrich.FromLogContext()
            .Enrich.WithProperty("service", identity.Name)
            .Enrich.WithProperty("instance", identity.Instance)
            .WriteTo.Console(new RenderedCompactJsonFormatter());
        var seq = configuration.GetSection(SeqOptions.Section).Get<SeqOptions>();
        if (!string.IsNullOrWhiteSpace(seq?.ServerUrl))
            logger.WriteTo.Seq(seq.ServerUrl, apiKey: string.IsNullOrWhiteSpace(seq.ApiKey) ? null : seq.ApiKey);
        return logger;
    }

    /// <summary>One line per request with its status and elapsed time; health probes and scrapes are left out.</summary>
    public static WebApplication UseRequestLogging(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<Serilog.ILogger>();
        app.UseWhen(context => !Observability.IsProbe(context.Request.Path), branch => branch.UseSerilogRequestLogging(o =>
        {
            o.Logger = logger;
            o.GetLevel = (context, _, exception) => (exception, context.Response.StatusCode) switch
            {
                (not null, _) => LogEventLevel.Error,
                (_, 503) => LogEventLevel.Warning,
                (_, >= 500) => LogEventLevel.Error,
                _ => LogEventLevel.Information,
            };
        }));
        return app;
    }

    private static IEnumerable<(string Category, LogEventLevel Level)> LevelsFromLoggingSection(IConfiguration configuration)
    {
        foreach (var entry in configuration.GetSection("Logging:LogLevel").GetChildren())
            yield return (entry.Key, ToSerilog(entry.Value) ?? throw new InvalidOperationException(
                $"{entry.Path} is '{entry.Value}'; use Trace, Debug, Information, Warning, Error, Critical or None."));
    }

    private static LogEventLevel? ToSerilog(string? level) => level?.ToLowerInvariant() switch
    {
        "trace" => LogEventLevel.Verbose,
        "debug" => LogEventLevel.Debug,
        "information" => LogEventLevel.Information,
        "warning" => LogEventLevel.Warning,
        "error" => LogEventLevel.Error,
        "critical" => LogEventLevel.Fatal,
        "none" => LogEventLevel.Fatal + 1, // above every level: nothing is written
        _ => null,
    };
}
