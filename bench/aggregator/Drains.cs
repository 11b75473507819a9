using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Telemetry.Aggregator;
using Telemetry.Aggregator.Rollups;
using Telemetry.Contracts;
using Telemetry.ServiceDefaults;
using Telemetry.Testing;
using Telemetry.Testing.Bench;

namespace Telemetry.Bench.Aggregator;

/// <summary>
/// Events drained per second, from the first message leaving the queue to the last one applied; and from the consumer's
/// start. For the aggregator also its flushes, as seen by polling rollup_state every 10 ms: events applied per flush.
/// </summary>
public sealed record DrainResult(int Events, TimeSpan Wall, TimeSpan Draining, IReadOnlyList<long> Flushes)
{
    public double Rate => Events / Draining.TotalSeconds;

    public string FlushSummary(int messageLimit) => Flushes.Count == 0
        ? ""
        : $"{Flushes.Count} flushes of {Flushes.Average():N0} events on average, one every {Draining.TotalMilliseconds / Flushes.Count:N0} ms, "
          + $"{Flushes.Count(f => f >= messageLimit)} full";
}

/// <summary>
/// Drains the pre-loaded backlog in the aggregator queue with the real aggregator, with a bare MassTransit batch
/// consumer that only acks (MassTransit's ceiling with the same endpoint settings) or with plain RabbitMQ.Client (the
/// broker's); and applies the same events with RollupWriter directly (the service's SQL without a broker).
/// </summary>
public sealed class Drains(RawBroker broker, RabbitMqAddress address, NpgsqlDataSource admin, AggregatorOptions limits)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    /// <summary>The real aggregator, hosted as the integration tests host it, until every event is applied.</summary>
    public async Task<DrainResult> AggregatorAsync(Func<ServiceHost<Telemetry.Aggregator.Program>> host, int events)
    {
        var flushes = new List<long>();
        long applied = 0;
        var result = await MeasureAsync(events,
            async () =>
            {
                var started = host();
                await Task.Run(() => started.Server);
                return started;
            },
            async () =>
            {
                var now = await AppliedAsync(admin);
                if (now > applied)
                    flushes.Add(now - applied);
                applied = now;
                return applied >= events;
            });
        return result with { Flushes = flushes };
    }

    /// <summary>An ack-only batch consumer with the aggregator endpoint's prefetch, concurrency and batch options.</summary>
    public Task<DrainResult> BareAsync(int events)
    {
        var consumed = new Counter();
        return MeasureAsync(events,
            async () =>
            {
                var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
                {
                    address.Apply(cfg);
                    cfg.ReceiveEndpoint(BrokerTopology.AggregatorQueue, e =>
                    {
                        BrokerTopology.ConfigureQueue(e);
                        e.ConfigureConsumeTopology = false;
                        e.PrefetchCount = limits.PrefetchCount;
                        e.ConcurrentMessageLimit = limits.PrefetchCount;
                        e.Consumer(() => new AckOnlyConsumer(consumed), c => c.Options<BatchOptions>(o => o
                            .SetMessageLimit(limits.MessageLimit)
                            .SetTimeLimit(limits.FlushInterval)
                            .SetConcurrencyLimit(1)));
                    });
                });
                await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
                return new Stopping(bus.StopAsync);
            },
            () => Task.FromResult(Volatile.Read(ref consumed.Count) >= events));
    }

    /// <summary>Plain RabbitMQ.Client, deserializing every message and acking once per MessageLimit: the broker's own ceiling.</summary>
    public Task<DrainResult> RawAsync(int events)
    {
        var consumed = new Counter();
        return MeasureAsync(events,
            () => ConsumeRawAsync(BrokerTopology.AggregatorQueue, limits.MessageLimit, events, n => Interlocked.Add(ref consumed.Count, n)),
            () => Task.FromResult(Volatile.Read(ref consumed.Count) >= events));
    }

    /// <summary>
    /// The leanest consumer of the same messages: each body deserialized into AnswerSubmitted, one ack (multiple) per
    /// <paramref name="batch"/> messages (and at the <paramref name="expected"/>th), prefetch <paramref name="batch"/>. Dispose to stop.
    /// </summary>
    private async Task<IAsyncDisposable> ConsumeRawAsync(string queue, int batch, int expected, Action<int> consumed)
    {
        var channel = await broker.Connection.CreateChannelAsync();
        await channel.BasicQosAsync(0, (ushort)Math.Min(batch, ushort.MaxValue), global: false);
        var consumer = new AsyncEventingBasicConsumer(channel);
        int unacked = 0, seen = 0;
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            _ = JsonSerializer.Deserialize<Envelope>(delivery.Body.Span, JsonSerializerOptions.Web)!.Message;
            seen++;
            if (++unacked < batch && seen < expected)
                return;
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: true);
            consumed(unacked);
            unacked = 0;
        };
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer);
        return channel;
    }

    private sealed record Envelope(AnswerSubmitted Message);

    /// <summary>RollupWriter.ApplyAsync on batches of MessageLimit, one after another, with the aggregator's own role.</summary>
    public static async Task<TimeSpan> WriterAsync(NpgsqlDataSource aggregatorRole, IReadOnlyList<AnswerSubmitted> events, int batch)
    {
        var writer = new RollupWriter(aggregatorRole, TimeProvider.System, new ServiceIdentity("aggregator", "bench-writer"));
        var clock = Stopwatch.StartNew();
        foreach (var chunk in events.Chunk(batch))
            await writer.ApplyAsync(chunk, CancellationToken.None);
        return clock.Elapsed;
    }

    private static async Task<long> AppliedAsync(NpgsqlDataSource admin)
    {
        await using var command = admin.CreateCommand("SELECT coalesce(sum(events_applied), 0)::bigint FROM rollup_state");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<DrainResult> MeasureAsync(int events, Func<Task<IAsyncDisposable>> start, Func<Task<bool>> done)
    {
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var firstDequeue = FirstDequeueAsync(events, clock, stop.Token);
        await using var consumer = await start();
        while (!await done())
        {
            if (clock.Elapsed > Timeout)
                throw new TimeoutException($"the backlog did not drain in {Timeout}; {await broker.ReadyAsync(BrokerTopology.AggregatorQueue):N0} still ready");
            await Task.Delay(10);
        }
        var wall = clock.Elapsed;
        await stop.CancelAsync();
        return new DrainResult(events, wall, wall - await firstDequeue, []);
    }

    private async Task<TimeSpan> FirstDequeueAsync(int events, Stopwatch clock, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested && await broker.ReadyAsync(BrokerTopology.AggregatorQueue) >= events)
            await Task.Delay(5, CancellationToken.None);
        return clock.Elapsed;
    }

    private sealed class Counter
    {
        public int Count;
    }

    private sealed class AckOnlyConsumer(Counter consumed) : IConsumer<Batch<AnswerSubmitted>>
    {
        public Task Consume(ConsumeContext<Batch<AnswerSubmitted>> context)
        {
            Interlocked.Add(ref consumed.Count, context.Message.Length);
            return Task.CompletedTask;
        }
    }

    private sealed class Stopping(Func<CancellationToken, Task> stop) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await stop(CancellationToken.None);
    }
}
