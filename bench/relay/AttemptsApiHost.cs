using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Telemetry.AttemptsApi.Outbox;

namespace Telemetry.Bench.Relay;

/// <summary>
/// The real attempts API in this process, on Kestrel at a free loopback port, configured only through settings. Its
/// outbox relay is not started with the host: <see cref="StartRelayAsync"/> starts the service's own relay class
/// (same options, store, bus and wake-up signal) when the benchmark wants it running.
/// </summary>
public sealed class AttemptsApiHost : WebApplicationFactory<AttemptsApi.Program>
{
    private readonly IReadOnlyDictionary<string, string?> _settings;

    public AttemptsApiHost(IReadOnlyDictionary<string, string?> settings)
    {
        _settings = settings;
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
    }

    /// <summary>Starts the server; returns its address.</summary>
    public Uri Start()
    {
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        return new Uri(addresses.Single());
    }

    /// <summary>Starts a relay; stopping it (dispose) leaves unsent rows for the next one.</summary>
    public async Task<IAsyncDisposable> StartRelayAsync()
    {
        var relay = ActivatorUtilities.CreateInstance<OutboxRelay>(Services);
        await relay.StartAsync(CancellationToken.None);
        return new RunningRelay(relay);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Benchmark");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in _settings)
            builder.UseSetting(key, value);
        builder.ConfigureTestServices(services =>
        {
            var hostedRelay = services.Single(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(OutboxRelay));
            services.Remove(hostedRelay);
        });
    }

    private sealed class RunningRelay(OutboxRelay relay) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await relay.StopAsync(CancellationToken.None);
            relay.Dispose();
        }
    }
}
