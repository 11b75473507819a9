using System.Diagnostics;
using Npgsql;
using Telemetry.Contracts;
using Telemetry.EventIngestor.AnswerEvents;
using Telemetry.Testing;

namespace Telemetry.Bench.Ingestor;

/// <summary>
/// The write paths the issue names, on one connection, over the backlog's rows in batches of the ingestor's size:
/// the service's <see cref="AnswerEventWriter"/> (INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING), binary COPY
/// into a temporary staging table then INSERT … SELECT … ON CONFLICT DO NOTHING, and one plain binary COPY of every row
/// (not idempotent: the ceiling).
/// </summary>
public sealed class WritePaths(NpgsqlDataSource ingestorRole, Func<Task> truncate)
{
    public Task<double> UnnestAsync(IReadOnlyList<AnswerSubmitted> rows, int batchSize)
    {
        var writer = new AnswerEventWriter(ingestorRole);
        return RowsPerSecondAsync(rows, async () =>
        {
            foreach (var batch in rows.Chunk(batchSize))
                await writer.WriteAsync(batch, CancellationToken.None);
        });
    }

    /// <summary>Staging per batch: a temporary table created in the batch's transaction and dropped at its commit.</summary>
    public Task<double> StagingAsync(IReadOnlyList<AnswerSubmitted> rows, int batchSize) =>
        RowsPerSecondAsync(rows, async () =>
        {
            foreach (var batch in rows.Chunk(batchSize))
            {
                await using var connection = await ingestorRole.OpenConnectionAsync();
                await using var transaction = await connection.BeginTransactionAsync();
                await ExecuteAsync(connection, "CREATE TEMP TABLE answer_events_staging (LIKE answer_events INCLUDING DEFAULTS) ON COMMIT DROP");
                await StageAndInsertAsync(connection, batch);
                await transaction.CommitAsync();
            }
        });

    /// <summary>Staging on a connection held for the whole run: the temporary table is created once and emptied at each commit.</summary>
    public Task<double> KeptStagingAsync(IReadOnlyList<AnswerSubmitted> rows, int batchSize) =>
        RowsPerSecondAsync(rows, async () =>
        {
            await using var connection = await ingestorRole.OpenConnectionAsync();
            await ExecuteAsync(connection, "CREATE TEMP TABLE answer_events_staging (LIKE answer_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS");
            foreach (var batch in rows.Chunk(batchSize))
            {
                await using var transaction = await connection.BeginTransactionAsync();
                await StageAndInsertAsync(connection, batch);
                await transaction.CommitAsync();
            }
            await ExecuteAsync(connection, "DROP TABLE answer_events_staging");
        });

    public Task<double> CopyAsync(IReadOnlyList<AnswerSubmitted> rows) =>
        RowsPerSecondAsync(rows, async () =>
        {
            await using var connection = await ingestorRole.OpenConnectionAsync();
            await AnswerEventsCopy.CopyAsync(connection, rows);
        });

    private static async Task StageAndInsertAsync(NpgsqlConnection connection, IReadOnlyList<AnswerSubmitted> batch)
    {
        await AnswerEventsCopy.CopyAsync(connection, batch, "answer_events_staging");
        await ExecuteAsync(connection, $"INSERT INTO answer_events ({AnswerEventsCopy.Columns}) SELECT {AnswerEventsCopy.Columns} FROM answer_events_staging ON CONFLICT DO NOTHING");
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<double> RowsPerSecondAsync(IReadOnlyList<AnswerSubmitted> rows, Func<Task> write)
    {
        await truncate();
        var clock = Stopwatch.StartNew();
        await write();
        return rows.Count / clock.Elapsed.TotalSeconds;
    }
}
