using Npgsql;

namespace Telemetry.AttemptsApi.Data;

public sealed record OutboxRow(long Id, Guid MessageId, string Payload, string? TraceParent);

public sealed record OutboxBacklog(long Unsent, DateTimeOffset? OldestUnsent);

/// <summary>The outbox table's relay and cleanup queries.</summary>
public sealed class OutboxStore(NpgsqlDataSource dataSource)
{
    // SKIP LOCKED: concurrent workers and replicas each take rows nobody else holds, and never wait on each other.
    private const string Claim = """
        SELECT id, message_id, payload::text, trace_parent FROM outbox_messages
        WHERE sent_at IS NULL
        ORDER BY id
        LIMIT $1
        FOR UPDATE SKIP LOCKED
        """;
    private const string MarkSent = "UPDATE outbox_messages SET sent_at = $2, publish_attempts = publish_attempts + 1 WHERE id = ANY($1)";
    private const string MarkFailed = "UPDATE outbox_messages SET publish_attempts = publish_attempts + 1 WHERE id = ANY($1)";
    private const string DeleteSent = """
        DELETE FROM outbox_messages WHERE id IN (
            SELECT id FROM outbox_messages WHERE sent_at < $1 ORDER BY sent_at LIMIT $2)
        """;

    // The partial index on unsent rows keeps this cheap however many sent rows wait for cleanup.
    private const string Backlog = "SELECT count(*), min(created_at) FROM outbox_messages WHERE sent_at IS NULL";

    // Losing this transaction's commit in a PostgreSQL crash only leaves published rows unsent: they are published
    // again with the same MessageId and the consumers deduplicate. So it need not wait for the WAL flush.
    private const string RelaxedCommit = "SET LOCAL synchronous_commit = off";

    /// <summary>Locks up to <paramref name="batchSize"/> unsent rows until the batch is completed or disposed.</summary>
    public Task<OutboxBatch> ClaimAsync(int batchSize, CancellationToken cancellationToken) =>
        OpenTransaction.BeginAsync(dataSource, async (connection, transaction) =>
        {
            await using (var relax = new NpgsqlCommand(RelaxedCommit, connection, transaction))
                await relax.ExecuteNonQueryAsync(cancellationToken);
            await using var command = new NpgsqlCommand(Claim, connection, transaction) { Parameters = { new() { Value = batchSize } } };
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var rows = new List<OutboxRow>(batchSize);
            while (await reader.ReadAsync(cancellationToken))
                rows.Add(new OutboxRow(reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
            return new OutboxBatch(connection, transaction, rows);
        }, cancellationToken);

    public async Task<OutboxBacklog> BacklogAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Backlog);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new OutboxBacklog(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1));
    }

    /// <summary>Deletes sent rows older than the cutoff, a chunk per statement; returns how many went.</summary>
    public async Task<long> DeleteSentBeforeAsync(DateTimeOffset cutoff, int chunk, CancellationToken cancellationToken)
    {
        long total = 0;
        int deleted;
        do
        {
            await using var command = dataSource.Command(DeleteSent, cutoff, chunk);
            deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            total += deleted;
        } while (deleted == chunk);
        return total;
    }

    public sealed class OutboxBatch(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<OutboxRow> rows) : OpenTransaction(connection, transaction)
    {
        public IReadOnlyList<OutboxRow> Rows { get; } = rows;

        /// <summary>Marks what was published as sent and counts a failed try on the rest, then releases the rows.</summary>
        public async Task CompleteAsync(IReadOnlyCollection<long> sent, IReadOnlyCollection<long> failed, DateTimeOffset now, CancellationToken cancellationToken)
        {
            await using var batch = new NpgsqlBatch(Connection, Transaction);
            if (sent.Count > 0)
                batch.BatchCommands.Add(Sql.Command(MarkSent, sent.ToArray(), now));
            if (failed.Count > 0)
                batch.BatchCommands.Add(Sql.Command(MarkFailed, failed.ToArray()));
            if (batch.BatchCommands.Count > 0)
                await batch.ExecuteNonQueryAsync(cancellationToken);
            await Transaction.CommitAsync(cancellationToken);
        }
    }
}
