using System.Diagnostics;
using System.Net.Http.Json;
using MassTransit;
using Telemetry.Aggregator;
using Telemetry.Contracts;
using Telemetry.EventIngestor;
using Telemetry.ServiceDefaults;

namespace Telemetry.LoadGen;

public sealed record BareResult(string Topology, int Messages, TimeSpan PublishConfirmed, TimeSpan Consumed)
{
    public double Rate => Messages / Consumed.TotalSeconds;
    public double PublishRate => Messages / PublishConfirmed.TotalSeconds;
}

/// <summary>
/// The transport's ceiling on this machine, measured in the same run: the same number of AnswerSubmitted messages
/// published with MassTransit (publisher confirms, as many in flight as the outbox relay keeps: 2 × 500) and consumed
/// by consumers that only count, on the same RabbitMQ node but in a temporary virtual host, so the stack's queues
/// never see them. "fanout" mirrors the stack's topology (the exchange feeds two quorum queues with the ingestor's and
/// the aggregator's prefetch); "single" is one quorum queue.
/// </summary>
public sealed class BareTransport(LocalStack stack, string runId, Action<string> say)
{
    private const int Publishers = 2;
    private const int InFlightPerPublisher = 500;

    private static readonly (string Queue, int Prefetch)[] StackQueues =
        [(BrokerTopology.IngestorQueue, new IngestorOptions().PrefetchCount), (BrokerTopology.AggregatorQueue, new AggregatorOptions().PrefetchCount)];

    public async Task<BareResult> MeasureAsync(string topology, int messages)
    {
        var vhost = $"loadgen-bare-{runId}-{topology}";
        using var management = stack.ManagementClient();
        (await management.PutAsJsonAsync($"api/vhosts/{Uri.EscapeDataString(vhost)}", new { })).EnsureSuccessStatusCode();
        try
        {
            (await management.PutAsJsonAsync($"api/permissions/{Uri.EscapeDataString(vhost)}/{Uri.EscapeDataString(stack.RabbitMqUser)}",
                new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();
            return await RunAsync(RabbitMqAddress.Parse(stack.RabbitMqUrl) with { VirtualHost = vhost }, topology, messages);
        }
        finally
        {
            await management.DeleteAsync($"api/vhosts/{Uri.EscapeDataString(vhost)}");
        }
    }

    private async Task<BareResult> RunAsync(RabbitMqAddress broker, string topology, int messages)
    {
        var queues = topology == "fanout" ? StackQueues : StackQueues[..1];
        var counters = queues.Select(_ => new StrongBox()).ToArray();
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            broker.Apply(cfg);
            BrokerTopology.ConfigureBus(cfg);
            for (var i = 0; i < queues.Length; i++)
            {
                var (counter, (queue, prefetch)) = (counters[i], queues[i]);
                cfg.ReceiveEndpoint(queue, e =>
                {
                    BrokerTopology.ConfigureQueue(e);
                    e.PrefetchCount = prefetch;
                    e.ConcurrentMessageLimit = prefetch;
                    e.Consumer(() => new CountingConsumer(counter));
                });
            }
        });
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        try
        {
            var template = Template();
            var next = -1;
            var clock = Stopwatch.StartNew();
            var publishers = Enumerable.Range(0, Publishers).Select(_ => Task.Run(async () =>
            {
                var batch = new List<Task>(InFlightPerPublisher);
                while (true)
                {
                    batch.Clear();
                    for (var i = 0; i < InFlightPerPublisher; i++)
                    {
                        var n = Interlocked.Increment(ref next);
                        if (n >= messages)
                            break;
                        var message = template with { EventId = Guid.NewGuid(), AttemptId = Guid.NewGuid(), AnswerIndex = n % 10 };
                        batch.Add(bus.Publish(message, context => context.MessageId = message.EventId));
                    }
                    if (batch.Count == 0)
                        return;
                    await Task.WhenAll(batch);
                }
            })).ToArray();
            await Task.WhenAll(publishers);
            var published = clock.Elapsed;
            var lastReport = clock.Elapsed;
            while (counters.Any(c => Volatile.Read(ref c.Count) < messages))
            {
                await Task.Delay(5);
                if (clock.Elapsed - lastReport > TimeSpan.FromSeconds(10))
                {
                    lastReport = clock.Elapsed;
                    say($"    bare {topology}: consumed {string.Join(" / ", counters.Select(c => c.Count.ToString("N0")))} of {messages:N0}");
                }
                if (clock.Elapsed > TimeSpan.FromMinutes(20))
                    throw new TimeoutException($"the bare consumers did not get all {messages} messages");
            }
            return new BareResult(topology, messages, published, clock.Elapsed);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    /// <summary>An event like the stack's, so the serialized size matches.</summary>
    private static AnswerSubmitted Template() => new(
        Guid.NewGuid(), Guid.NewGuid(), "0x4b0897b0513fdc7c541b6d9d7e929c4e5364d2db", Guid.NewGuid(), Guid.NewGuid(), "B", true, 6000, 95, 1,
        AutoDecisions.Pending, 1, DateTimeOffset.UtcNow, 0, 10);

    private sealed class StrongBox
    {
        public long Count;
    }

    private sealed class CountingConsumer(StrongBox counter) : IConsumer<AnswerSubmitted>
    {
        public Task Consume(ConsumeContext<AnswerSubmitted> context)
        {
            Interlocked.Increment(ref counter.Count);
            return Task.CompletedTask;
        }
    }
}
