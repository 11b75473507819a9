using System.Diagnostics;
using MassTransit;
using Telemetry.Contracts;
using Telemetry.ServiceDefaults;

namespace Telemetry.Bench.Relay;

/// <summary>
/// The baseline: a plain MassTransit bus on the same virtual host, with the services' host settings (publisher
/// confirms on), publishing ready-made AnswerSubmitted messages with the relay's shape of concurrency: as many loops as
/// relay workers, each publishing a batch of relay-batch-size messages at once and waiting for all confirms.
/// </summary>
public sealed class BarePublisher : IAsyncDisposable
{
    private readonly IBusControl _bus;

    private BarePublisher(IBusControl bus) => _bus = bus;

    public static async Task<BarePublisher> StartAsync(RabbitMqAddress broker)
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg => broker.Apply(cfg));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await bus.StartAsync(timeout.Token);
        return new BarePublisher(bus);
    }

    /// <summary>Publishes every message once (its event id as the MessageId, like the relay); returns the seconds it took.</summary>
    public async Task<double> PublishAsync(IReadOnlyList<AnswerSubmitted> messages, int workers, int batchSize)
    {
        var next = -batchSize;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            for (var start = Interlocked.Add(ref next, batchSize); start < messages.Count; start = Interlocked.Add(ref next, batchSize))
            {
                var batch = messages.Skip(start).Take(batchSize);
                await Task.WhenAll(batch.Select(m => _bus.Publish(m, context => context.MessageId = m.EventId)));
            }
        })));
        return watch.Elapsed.TotalSeconds;
    }

    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}
