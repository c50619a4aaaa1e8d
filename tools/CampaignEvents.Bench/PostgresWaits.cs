using Dapper;
using Npgsql;

namespace CampaignEvents.Bench;

/// <summary>
/// Samples, while consumers apply, what the PostgreSQL backends of the bench database do
/// (pg_stat_activity: on CPU or waiting, and on what) and which of them wait for a lock that is
/// not granted (pg_locks: row, transaction, advisory bucket locks), and their CPU from /proc.
/// So the bench can say whether locks or something else limit several consumers.
/// </summary>
sealed class PostgresWaits : IAsyncDisposable
{
    const string Sample = """
        SELECT a.pid AS Pid,
               coalesce(a.wait_event_type || ':' || a.wait_event, 'on CPU') AS What,
               (SELECT string_agg(DISTINCT l.locktype, ',') FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted) AS Lock
        FROM pg_stat_activity a
        WHERE a.datname = @database AND a.pid <> pg_backend_pid() AND a.state = 'active'
        """;

    const string Backends = "SELECT pid FROM pg_stat_activity WHERE datname = @database AND pid <> pg_backend_pid()";

    readonly NpgsqlConnection connection;
    readonly string database;
    readonly CancellationTokenSource stop = new();
    readonly Dictionary<string, int> states = [];
    readonly Dictionary<string, int> locks = [];
    readonly Dictionary<int, double> cpuAtStart = [];
    readonly Dictionary<int, double> cpuLast = [];
    Task? sampling;
    int samples;
    int samplesWithLockWait;

    PostgresWaits(NpgsqlConnection connection, string database)
    {
        this.connection = connection;
        this.database = database;
    }

    /// <summary>Takes the CPU of the backends there now as the start, then samples every <paramref name="interval"/>.</summary>
    public static async Task<PostgresWaits> Start(NpgsqlDataSource dataSource, string database, TimeSpan interval)
    {
        var waits = new PostgresWaits(await dataSource.OpenConnectionAsync(), database);
        foreach (var pid in await waits.connection.QueryAsync<int>(Backends, new { database }))
        {
            if (ProcStat.CpuSeconds(pid) is { } cpu)
            {
                waits.cpuAtStart[pid] = cpu;
                waits.cpuLast[pid] = cpu;
            }
        }

        waits.sampling = waits.Loop(interval);
        return waits;
    }

    async Task Loop(TimeSpan interval)
    {
        while (!stop.IsCancellationRequested)
        {
            await Take();
            try
            {
                await Task.Delay(interval, stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    async Task Take()
    {
        var rows = (await connection.QueryAsync<(int Pid, string What, string? Lock)>(Sample, new { database })).ToList();
        samples++;
        foreach (var row in rows)
        {
            states[row.What] = states.GetValueOrDefault(row.What) + 1;
            if (row.Lock is not null)
            {
                locks[row.Lock] = locks.GetValueOrDefault(row.Lock) + 1;
            }
        }

        if (rows.Any(r => r.Lock is not null))
        {
            samplesWithLockWait++;
        }

        // backends the consumers open during the run start from zero: all their CPU is the run's
        foreach (var pid in await connection.QueryAsync<int>(Backends, new { database }))
        {
            if (ProcStat.CpuSeconds(pid) is { } cpu)
            {
                cpuAtStart.TryAdd(pid, 0);
                cpuLast[pid] = cpu;
            }
        }
    }

    /// <summary>Stops sampling (one last sample first); returns the summary.</summary>
    public async Task<Summary> Finish()
    {
        await stop.CancelAsync();
        await sampling!;
        await Take();
        var cpu = cpuLast.Sum(p => p.Value - cpuAtStart[p.Key]);
        return new Summary(
            samples,
            states.OrderByDescending(s => s.Value).Select(s => (s.Key, (double)s.Value / samples)).ToList(),
            locks.OrderByDescending(s => s.Value).Select(s => (s.Key, (double)s.Value / samples)).ToList(),
            (double)samplesWithLockWait / samples,
            cpuAtStart.Count > 0 ? cpu : null);
    }

    public async ValueTask DisposeAsync()
    {
        if (sampling is { IsCompleted: false })
        {
            await stop.CancelAsync();
            await sampling;
        }

        stop.Dispose();
        await connection.DisposeAsync();
    }

    /// <param name="States">Average number of active backends in each state (on CPU, or the wait event).</param>
    /// <param name="Locks">Average number of backends waiting for a lock of each type (pg_locks, not granted).</param>
    /// <param name="LockWaitShare">Share of samples with at least one backend waiting for a lock.</param>
    /// <param name="CpuSeconds">CPU of the bench database's backends over the run.</param>
    public sealed record Summary(int Samples, IReadOnlyList<(string What, double Backends)> States, IReadOnlyList<(string Type, double Backends)> Locks, double LockWaitShare, double? CpuSeconds)
    {
        public double Active => States.Sum(s => s.Backends);
    }
}
