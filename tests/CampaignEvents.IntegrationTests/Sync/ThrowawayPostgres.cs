using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace CampaignEvents.IntegrationTests.Sync;

/// <summary>
/// A PostgreSQL server of the test's own (initdb into a temporary folder, a free loopback port),
/// so a test can stop and start it without touching the shared server. Needs root (it runs the
/// server as the postgres user) and the Debian PostgreSQL 15 binaries.
/// </summary>
public sealed class ThrowawayPostgres : IAsyncDisposable
{
    const string Bin = "/usr/lib/postgresql/15/bin";

    readonly string folder;

    ThrowawayPostgres(string folder, int port)
    {
        this.folder = folder;
        Port = port;
    }

    public int Port { get; }

    public static bool Available => File.Exists($"{Bin}/initdb") && Environment.UserName == "root";

    public NpgsqlConnectionStringBuilder Connection(string database) => new()
    {
        Host = "127.0.0.1", Port = Port, Database = database, Username = "postgres", Pooling = true, Timeout = 3,
    };

    public static async Task<ThrowawayPostgres> Start()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"ce-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        await Run("chown", "postgres:postgres", folder);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await Run("runuser", "-u", "postgres", "--", $"{Bin}/initdb", "-D", $"{folder}/data", "-A", "trust", "-U", "postgres", "--no-sync");
        var server = new ThrowawayPostgres(folder, port);
        await server.StartServer();
        await using var admin = new NpgsqlConnection(server.Connection("postgres").ConnectionString);
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand("CREATE DATABASE contacts", admin);
        await create.ExecuteNonQueryAsync();
        return server;
    }

    public Task StartServer() => Run("runuser", "-u", "postgres", "--", $"{Bin}/pg_ctl", "-D", $"{folder}/data", "-l", $"{folder}/log", "-w",
        "-o", $"-p {Port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start");

    public Task StopServer() => Run("runuser", "-u", "postgres", "--", $"{Bin}/pg_ctl", "-D", $"{folder}/data", "-m", "fast", "-w", "stop");

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

    static async Task Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await error} {await output}");
        }
    }
}
