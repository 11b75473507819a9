using System.Text.RegularExpressions;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Telemetry.ServiceDefaults;

namespace Telemetry.Setup.DeadLetters;

/// <summary>
/// Operators' tools for the consumers' error queues (ConnectionStrings:RabbitMq, plain AMQP). Dead letters are bad
/// input only (an outage never dead-letters), so they wait there for a person: look, fix the cause, then replay
/// (safe: the consumers deduplicate by event id) or purge.
/// </summary>
internal static partial class DeadLetterCommands
{
    public const string Usage = """
        usage: setup dead-letters list [QUEUE]                               counts per queue and reason, first and last seen; consumes nothing
               setup dead-letters replay QUEUE [--reason TEXT] [--limit N]   move dead letters back to the queue they came from
               setup dead-letters purge QUEUE --older-than D                 delete dead letters that failed more than D ago (7d, 12h, 30m)
        QUEUE is an error queue, e.g. event-ingestor_error (default for list: every consumer's error queue).
        """;

    private const string ErrorSuffix = "_error";

    /// <summary>AMQP cannot list a virtual host's queues; these are the error queues of the consumers we run.</summary>
    private static readonly IReadOnlyList<string> ErrorQueues = [.. TopologyDeployer.ConsumerQueues.Select(q => q + ErrorSuffix)];

    public static async Task<int> RunAsync(string[] args, string brokerUri, CancellationToken cancellationToken)
    {
        var command = Parse(args);
        if (command is null)
            return UsageError();
        var broker = RabbitMqAddress.Parse(brokerUri);
        try
        {
            await using var connection = await new ConnectionFactory
            {
                HostName = broker.Host,
                Port = broker.Port,
                VirtualHost = broker.VirtualHost,
                UserName = broker.Username,
                Password = broker.Password,
                ClientProvidedName = "setup dead-letters",
            }.CreateConnectionAsync(cancellationToken);
            return await command(connection, cancellationToken);
        }
        catch (Exception ex) when (ex is BrokerUnreachableException or RabbitMQClientException)
        {
            Console.Error.WriteLine($"setup: RabbitMQ at {broker.Host}:{broker.Port} (virtual host {broker.VirtualHost}): {ex.Message}");
            return 1;
        }
    }

    private static Func<IConnection, CancellationToken, Task<int>>? Parse(string[] args) => args switch
    {
        ["list"] => (c, ct) => ListAsync(c, ErrorQueues, ct),
        ["list", var queue] when IsErrorQueue(queue) => (c, ct) => ListAsync(c, [queue], ct),
        ["replay", var queue, .. var options] when IsErrorQueue(queue) => ParseReplay(queue, options),
        ["purge", var queue, "--older-than", var age] when IsErrorQueue(queue) && Age(age) is { } maxAge =>
            (c, ct) => PurgeAsync(c, queue, age, maxAge, ct),
        _ => null,
    };

    private static Func<IConnection, CancellationToken, Task<int>>? ParseReplay(string queue, string[] options)
    {
        string? reason = null;
        int? limit = null;
        for (var i = 0; i < options.Length; i += 2)
        {
            var value = i + 1 < options.Length ? options[i + 1] : null;
            switch (options[i])
            {
                case "--reason" when reason is null && value is { Length: > 0 }:
                    reason = value;
                    break;
                case "--limit" when limit is null && int.TryParse(value, out var n) && n > 0:
                    limit = n;
                    break;
                default:
                    return null;
            }
        }
        return (c, ct) => ReplayAsync(c, queue, reason, limit, ct);
    }

    private static async Task<int> ListAsync(IConnection connection, IReadOnlyList<string> queues, CancellationToken cancellationToken)
    {
        const string row = "{0,-24} {1,7}  {2,-19}  {3,-19}  {4}";
        var lines = new List<string> { string.Format(row, "QUEUE", "COUNT", "FIRST SEEN (UTC)", "LAST SEEN (UTC)", "REASON") };
        foreach (var name in queues)
        {
            await using var queue = await ErrorQueue.OpenAsync(connection, name, cancellationToken);
            if (queue is null && !ErrorQueues.Contains(name))
                return NoQueue(name);
            var letters = queue is null ? [] : await queue.ReadAsync(cancellationToken).ToListAsync(cancellationToken);
            var times = letters.Select(l => l.FaultedAt).ToList();
            lines.Add(string.Format(row, name, letters.Count, Time(times.Min()), Time(times.Max()), "(all)"));
            foreach (var group in letters.GroupBy(l => ReasonGroups.Of(l.Reason)).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal))
                lines.Add(string.Format(row, name, group.Count(), Time(group.Min(l => l.FaultedAt)), Time(group.Max(l => l.FaultedAt)), group.Key));
        }
        lines.ForEach(Console.WriteLine);
        return 0;
    }

    private static async Task<int> ReplayAsync(IConnection connection, string name, string? reason, int? limit, CancellationToken cancellationToken)
    {
        var target = name[..^ErrorSuffix.Length];
        await using var queue = await ErrorQueue.OpenAsync(connection, name, cancellationToken);
        if (queue is null)
            return NoQueue(name);
        if (!await ExistsAsync(connection, target, cancellationToken))
        {
            Console.Error.WriteLine($"setup: there is no queue '{target}' to replay to: deploy the broker topology first (setup topology).");
            return 1;
        }

        // Confirmed publishes: BasicPublishAsync returns once RabbitMQ has the message, and throws if it was not routed.
        await using var publisher = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
        var moved = 0;
        await foreach (var letter in queue.ReadAsync(cancellationToken))
        {
            if (reason is not null && !letter.Reason.Contains(reason, StringComparison.OrdinalIgnoreCase))
                continue;
            // Published (and confirmed) before it is removed: a crash in between duplicates it at worst, and the consumers deduplicate.
            await publisher.BasicPublishAsync("", target, mandatory: true, letter.Original(), letter.Body, cancellationToken);
            await queue.RemoveAsync(letter, cancellationToken);
            if (++moved == limit)
                break;
        }
        var filters = new List<string>();
        if (reason is not null)
            filters.Add($"reason containing '{reason}'");
        if (limit is not null)
            filters.Add($"limit {limit}");
        var filter = filters.Count == 0 ? "" : $" ({string.Join(", ", filters)})";
        Console.WriteLine($"replayed {moved} dead letters{filter} from {name} to {target}; {queue.Count - moved} of {queue.Count} left in {name}");
        return 0;
    }

    private static async Task<int> PurgeAsync(IConnection connection, string name, string age, TimeSpan maxAge, CancellationToken cancellationToken)
    {
        await using var queue = await ErrorQueue.OpenAsync(connection, name, cancellationToken);
        if (queue is null)
            return NoQueue(name);
        var cutoff = DateTimeOffset.UtcNow - maxAge;
        var letters = await queue.ReadAsync(cancellationToken).ToListAsync(cancellationToken);
        var old = letters.Where(l => l.FaultedAt < cutoff).ToList();
        Console.WriteLine($"purging {old.Count} of {letters.Count} dead letters older than {age} from {name}");
        foreach (var letter in old)
            await queue.RemoveAsync(letter, cancellationToken);
        Console.WriteLine($"purged {old.Count}; {letters.Count - old.Count} left in {name}");
        return 0;
    }

    private static async Task<bool> ExistsAsync(IConnection connection, string queue, CancellationToken cancellationToken)
    {
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
            return true;
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return false;
        }
    }

    private static bool IsErrorQueue(string queue) => ErrorQueueName().IsMatch(queue);

    private static TimeSpan? Age(string text) =>
        AgePattern().Match(text) is { Success: true } m && int.TryParse(m.Groups[1].Value, out var n)
            ? m.Groups[2].Value switch { "d" => TimeSpan.FromDays(n), "h" => TimeSpan.FromHours(n), _ => TimeSpan.FromMinutes(n) }
            : null;

    private static string Time(DateTimeOffset? at) => at is { } value ? value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") : "-";

    /// <summary>A consumer's error queue is declared with its first dead letter, so its absence means none; any other name is a mistake.</summary>
    private static int NoQueue(string queue)
    {
        if (ErrorQueues.Contains(queue))
        {
            Console.WriteLine($"no dead letters in {queue}: the queue does not exist yet (it is declared with the first dead letter)");
            return 0;
        }
        Console.Error.WriteLine($"setup: there is no queue '{queue}' in this virtual host; the consumers' error queues are {string.Join(" and ", ErrorQueues)}.");
        return 1;
    }

    private static int UsageError()
    {
        Console.Error.WriteLine(Usage);
        return 2;
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._:-]{0,200}_error\z")]
    private static partial Regex ErrorQueueName();

    [GeneratedRegex(@"^([0-9]{1,6})([dhm])\z")]
    private static partial Regex AgePattern();
}
