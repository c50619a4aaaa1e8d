using Npgsql;

namespace CampaignEvents.TestSupport.Stack;

/// <summary>
/// A PostgreSQL server of a test's own (initdb in a temporary folder, loopback only, trust
/// authentication, fsync off), for tests that stop the database or need another server setting
/// (wal_level). Needs root (the server runs as the postgres user) and the server binaries, which
/// infra/up.sh installs: skipped with the reason otherwise, and a failure under CI=true.
/// </summary>
public sealed class ThrowawayPostgres : IAsyncDisposable
{
    readonly string folder;
    readonly string bin;
    readonly string walLevel;

    ThrowawayPostgres(string folder, string bin, int port, string walLevel)
    {
        this.folder = folder;
        this.bin = bin;
        this.walLevel = walLevel;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The admin connection to the server's <c>postgres</c> database.</summary>
    public string ConnectionString => Connection("postgres").ConnectionString;

    static string? Bin => Directory.Exists("/usr/lib/postgresql")
        ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
        : null;

    public NpgsqlConnectionStringBuilder Connection(string database) => new()
    {
        Host = "127.0.0.1", Port = Port, Database = database, Username = "postgres", Pooling = true, Timeout = 3,
    };

    public static async Task<ThrowawayPostgres> Start(string walLevel = "replica")
    {
        var bin = Bin;
        ThrowawayServers.Require(bin is not null && Environment.UserName == "root", "a throwaway PostgreSQL needs root and the server binaries under /usr/lib/postgresql (infra/up.sh installs them)");

        var folder = Path.Combine(Path.GetTempPath(), $"ce-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        await ProcessRunner.Run("chown", ["postgres:postgres", folder]);
        var port = ThrowawayServers.FreePort();
        await ProcessRunner.Run("runuser", ["-u", "postgres", "--", $"{bin}/initdb", "-D", $"{folder}/data", "-A", "trust", "-U", "postgres", "--no-sync"]);
        var server = new ThrowawayPostgres(folder, bin!, port, walLevel);
        await server.StartServer();
        return server;
    }

    public async Task CreateDatabase(string name)
    {
        await using var admin = new NpgsqlConnection(ConnectionString);
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
        await create.ExecuteNonQueryAsync();
    }

    public Task StartServer() => ProcessRunner.Run("runuser", ["-u", "postgres", "--", $"{bin}/pg_ctl", "-D", $"{folder}/data", "-l", $"{folder}/log", "-w",
        "-o", $"-p {Port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c wal_level={walLevel}", "start"]);

    public Task StopServer() => ProcessRunner.Run("runuser", ["-u", "postgres", "--", $"{bin}/pg_ctl", "-D", $"{folder}/data", "-m", "fast", "-w", "stop"]);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopServer();
        }
        catch (InvalidOperationException)
        {
            // already stopped
        }

        NpgsqlConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}
