using MassTransit;
using Telemetry.Contracts;

namespace Telemetry.Testing;

/// <summary>A bare MassTransit bus on the test virtual host, to publish events the way the attempts API's relay does.</summary>
public sealed class TestPublisher : IAsyncDisposable
{
    private readonly IBusControl _bus;

    private TestPublisher(IBusControl bus) => _bus = bus;

    public static async Task<TestPublisher> StartAsync(TestBroker broker)
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg => broker.Address.Apply(cfg));
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        return new TestPublisher(bus);
    }

    public Task PublishAsync(AnswerSubmitted message) =>
        _bus.Publish(message, context => context.MessageId = message.EventId);

    public async Task PublishAllAsync(IEnumerable<AnswerSubmitted> messages)
    {
        foreach (var chunk in messages.Chunk(200))
            await Task.WhenAll(chunk.Select(PublishAsync));
    }

    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}
