using Npgsql;

namespace CampaignEvents.Source.Leadership;

/// <summary>
/// Which of several adapters of one slot captures: the one holding a session-level advisory lock
/// on the source, keyed by the slot's name, on a connection of its own. The others wait as
/// standbys and try again every <c>Source:StandbyPollInterval</c>. A killed adapter's session ends
/// with its connection, so the lock is free at once and a standby takes over within that interval
/// (docs/adr/0004). <see cref="Lost"/> fires when the lease's connection stops answering: capture
/// must stop, since another adapter may hold the lock by then.
/// </summary>
internal sealed class AdapterLease : IAsyncDisposable
{
    const string TryLock = "SELECT pg_try_advisory_lock(hashtextextended('campaign-events/' || $1, 0))";

    static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(2);

    readonly NpgsqlConnection connection;
    readonly CancellationTokenSource lost = new();
    readonly CancellationTokenSource disposed = new();
    readonly Task watching;

    AdapterLease(NpgsqlConnection connection)
    {
        this.connection = connection;
        watching = Watch();
    }

    public CancellationToken Lost => lost.Token;

    /// <summary>The lease, or null while another adapter holds it.</summary>
    /// <param name="connectionString">The source; the lease's connection is never pooled (a pooled session would keep the lock after this adapter ends).</param>
    public static async Task<AdapterLease?> TryAcquire(string connectionString, string slot, CancellationToken cancel)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, ApplicationName = $"campaign-events lease {slot}" }.ConnectionString);
        try
        {
            await connection.OpenAsync(cancel);
            await using var command = new NpgsqlCommand(TryLock, connection);
            command.Parameters.AddWithValue(slot);
            if (await command.ExecuteScalarAsync(cancel) is true)
            {
                return new AdapterLease(connection);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await connection.DisposeAsync();
        return null;
    }

    async Task Watch()
    {
        try
        {
            while (true)
            {
                await Task.Delay(KeepAlive, disposed.Token);
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                command.CommandTimeout = 5;
                await command.ExecuteScalarAsync(disposed.Token);
            }
        }
        catch (OperationCanceledException) when (disposed.IsCancellationRequested)
        {
        }
        catch (Exception)
        {
            // whatever broke the check, this adapter can no longer be sure it holds the lock
            await lost.CancelAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await disposed.CancelAsync();
        try
        {
            await watching;
        }
        finally
        {
            // closing the session releases the lock, whatever happened to the check
            await connection.DisposeAsync();
        }

        lost.Dispose();
        disposed.Dispose();
    }
}
