using System.Diagnostics;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Telemetry.Contracts;
using Telemetry.EventIngestor;
using Telemetry.ServiceDefaults;
using Telemetry.Testing.Bench;

namespace Telemetry.Bench.Ingestor;

/// <summary>
/// How long one consumer took to drain the backlog (from its start, and from the first message leaving the queue),
/// and the CPU it cost from start to drained.
/// </summary>
public sealed record DrainResult(int Messages, TimeSpan Wall, TimeSpan Draining, CpuTime Cpu)
{
    public double Rate => Messages / Draining.TotalSeconds;
}

/// <summary>
/// Drains the same pre-loaded backlog with the real ingestor and with bare MassTransit consumers. The same poller
/// marks when the first message leaves the queue in every case, so startup costs do not skew the rates.
/// </summary>
public sealed class Drains(Backlog backlog, RawBroker raw, RabbitMqAddress broker, IngestorOptions limits, CpuMeter cpu)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The ingestor wired as its Program wires it (its own database role, Kestrel on a free loopback port), until the
    /// queue is empty and every row is present.
    /// </summary>
    public Task<DrainResult> IngestorAsync(IReadOnlyDictionary<string, string?> settings, Func<Task<long>> rowCount) =>
        MeasureAsync(
            async () =>
            {
                var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
                builder.Configuration.AddInMemoryCollection(settings);
                builder.WebHost.UseUrls("http://127.0.0.1:0");
                builder.AddServiceDefaults("event-ingestor");
                builder.AddEventIngestor();
                var app = builder.Build();
                app.MapDefaultEndpoints();
                await app.StartAsync();
                return new StoppingHost(app);
            },
            async () => await raw.ReadyAsync(BrokerTopology.IngestorQueue) == 0 && await rowCount() == backlog.Events.Count);

    /// <summary>A consumer that only acks, with the ingestor's prefetch and concurrent message limit.</summary>
    public Task<DrainResult> BareAsync()
    {
        var countdown = new Countdown(backlog.Events.Count);
        return MeasureAsync(
            () => StartBusAsync(e => e.Consumer(() => new AckOnlyConsumer(countdown))),
            () => Task.FromResult(countdown.Done));
    }

    /// <summary>A batch consumer that only acks, with the ingestor's batch options: the cost of batching without the write.</summary>
    public Task<DrainResult> BareBatchAsync()
    {
        var countdown = new Countdown(backlog.Events.Count);
        return MeasureAsync(
            () => StartBusAsync(e => e.Consumer(() => new AckOnlyBatchConsumer(countdown), c => c.Options<BatchOptions>(o => o
                .SetMessageLimit(limits.MessageLimit)
                .SetTimeLimit(limits.TimeLimit)
                .SetConcurrencyLimit(limits.ConcurrencyLimit)))),
            () => Task.FromResult(countdown.Done));
    }

    private async Task<IAsyncDisposable> StartBusAsync(Action<IRabbitMqReceiveEndpointConfigurator> consumer)
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            broker.Apply(cfg);
            cfg.ReceiveEndpoint(BrokerTopology.IngestorQueue, e =>
            {
                BrokerTopology.ConfigureQueue(e);
                e.ConfigureConsumeTopology = false;
                e.PrefetchCount = limits.PrefetchCount;
                e.ConcurrentMessageLimit = limits.PrefetchCount;
                consumer(e);
            });
        });
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        return new StoppingBus(bus);
    }

    private async Task<DrainResult> MeasureAsync(Func<Task<IAsyncDisposable>> start, Func<Task<bool>> drained)
    {
        var cpuBefore = cpu.Now();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var firstDequeue = FirstDequeueAsync(clock, stop.Token);
        await using var consumer = await start();
        while (!await drained())
        {
            if (clock.Elapsed > Timeout)
                throw new TimeoutException($"the backlog did not drain in {Timeout}; {await raw.ReadyAsync(BrokerTopology.IngestorQueue)} still ready");
            await Task.Delay(20);
        }
        var wall = clock.Elapsed;
        var cpuUsed = cpu.Now() - cpuBefore;
        await stop.CancelAsync();
        return new DrainResult(backlog.Events.Count, wall, wall - await firstDequeue, cpuUsed);
    }

    private async Task<TimeSpan> FirstDequeueAsync(Stopwatch clock, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested && await raw.ReadyAsync(BrokerTopology.IngestorQueue) >= backlog.Events.Count)
            await Task.Delay(10, CancellationToken.None);
        return clock.Elapsed;
    }

    private sealed class Countdown(int target)
    {
        private int _count;

        public bool Done => Volatile.Read(ref _count) >= target;

        public void Signal(int messages) => Interlocked.Add(ref _count, messages);
    }

    private sealed class AckOnlyConsumer(Countdown countdown) : IConsumer<AnswerSubmitted>
    {
        public Task Consume(ConsumeContext<AnswerSubmitted> context)
        {
            countdown.Signal(1);
            return Task.CompletedTask;
        }
    }

    private sealed class AckOnlyBatchConsumer(Countdown countdown) : IConsumer<Batch<AnswerSubmitted>>
    {
        public Task Consume(ConsumeContext<Batch<AnswerSubmitted>> context)
        {
            countdown.Signal(context.Message.Length);
            return Task.CompletedTask;
        }
    }

    private sealed class StoppingBus(IBusControl bus) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await bus.StopAsync();
    }

    private sealed class StoppingHost(WebApplication app) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
