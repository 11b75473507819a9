using Npgsql;

namespace Telemetry.AttemptsApi.Data;

public static class Sql
{
    /// <summary>A batch command with positional parameters ($1, $2, …); null becomes SQL NULL.</summary>
    public static NpgsqlBatchCommand Command(string sql, params object?[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var parameter in parameters)
            command.Parameters.Add(parameter as NpgsqlParameter ?? new NpgsqlParameter { Value = parameter ?? DBNull.Value });
        return command;
    }

    /// <summary>A command on a pooled connection with positional parameters ($1, $2, …).</summary>
    public static NpgsqlCommand Command(this NpgsqlDataSource dataSource, string sql, params object?[] parameters)
    {
        var command = dataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = parameter ?? DBNull.Value });
        return command;
    }
}

/// <summary>A connection and transaction held across awaits by a caller; disposing without committing rolls back.</summary>
public abstract class OpenTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
{
    protected NpgsqlConnection Connection { get; } = connection;
    protected NpgsqlTransaction Transaction { get; } = transaction;

    /// <summary>Opens a connection and a transaction and runs <paramref name="start"/>; cleans up if that fails.</summary>
    public static async Task<T> BeginAsync<T>(
        NpgsqlDataSource dataSource,
        Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> start,
        CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        NpgsqlTransaction? transaction = null;
        try
        {
            transaction = await connection.BeginTransactionAsync(cancellationToken);
            return await start(connection, transaction);
        }
        catch
        {
            if (transaction is not null)
                await transaction.DisposeAsync();
            await connection.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
