using Npgsql;

namespace CampaignEvents.TestSupport.Stack;

/// <summary>
/// A PostgreSQL server of a test's own (initdb in a temporary folder, loopback only, trust
/// authentication, fsync off), for tests that stop the database or need another server setting
/// (wal_level). Needs root (the server runs as the postgres user) and the server binaries, which
/// infra/up.sh installs: skipped with the reason otherwise, and a failure under CI=true.
/// With <see cref="ThrowawayCertificates"/> it takes TLS connections only (ssl=on, pg_hba
/// <c>hostssl</c>; a plain connection is refused), and clients verify it (SSL Mode=VerifyFull); with
/// a password, it asks for it (scram-sha-256) instead of trusting.
/// </summary>
public sealed class ThrowawayPostgres : IAsyncDisposable
{
    readonly string folder;
    readonly string bin;
    readonly string walLevel;
    readonly ThrowawayCertificates? certificates;
    readonly string? password;

    ThrowawayPostgres(string folder, string bin, int port, string walLevel, ThrowawayCertificates? certificates, string? password)
    {
        this.folder = folder;
        this.bin = bin;
        this.walLevel = walLevel;
        this.certificates = certificates;
        this.password = password;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The admin connection to the server's <c>postgres</c> database.</summary>
    public string ConnectionString => Connection("postgres").ConnectionString;

    static string? Bin => Directory.Exists("/usr/lib/postgresql")
        ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
        : null;

    public NpgsqlConnectionStringBuilder Connection(string database)
    {
        var connection = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = Port, Database = database, Username = "postgres", Pooling = true, Timeout = 3,
        };
        if (password is not null)
        {
            connection.Password = password;
        }

        if (certificates is not null)
        {
            // a TLS handshake and SCRAM on 2 shared cores can take longer than the plain server's 3 s
            connection.Timeout = 15;
            connection.SslMode = SslMode.VerifyFull;
            connection.RootCertificate = certificates.CaFile;
        }

        return connection;
    }

    public static async Task<ThrowawayPostgres> Start(string walLevel = "replica", ThrowawayCertificates? certificates = null, string? password = null)
    {
        var bin = Bin;
        ThrowawayServers.Require(bin is not null && Environment.UserName == "root", "a throwaway PostgreSQL needs root and the server binaries under /usr/lib/postgresql (infra/up.sh installs them)");

        var folder = Path.Combine(Path.GetTempPath(), $"ce-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        await ProcessRunner.Run("chown", ["postgres:postgres", folder]);
        var port = ThrowawayServers.FreePort();
        await ProcessRunner.Run("runuser", ["-u", "postgres", "--", $"{bin}/initdb", "-D", $"{folder}/data", "-A", "trust", "-U", "postgres", "--no-sync"]);
        if (certificates is not null || password is not null)
        {
            await Secure(folder, certificates, password);
        }

        var server = new ThrowawayPostgres(folder, bin!, port, walLevel, certificates, password);
        await server.StartServer();
        if (password is not null)
        {
            await server.SetPassword();
        }

        return server;
    }

    /// <summary>TLS only (when certificates are given) and a password (when one is), through pg_hba.conf; the server's key readable by postgres only.</summary>
    static async Task Secure(string folder, ThrowawayCertificates? certificates, string? password)
    {
        var data = $"{folder}/data";
        var method = password is null ? "trust" : "scram-sha-256";
        var host = certificates is null ? "host" : "hostssl";
        var hba = $"local all all trust\n{host} all all 127.0.0.1/32 {method}\n{host} replication all 127.0.0.1/32 {method}\n";
        if (certificates is not null)
        {
            hba += "hostnossl all all 0.0.0.0/0 reject\nhostnossl replication all 0.0.0.0/0 reject\n";
            File.Copy(certificates.ServerCertificateFile, $"{data}/server.crt");
            File.Copy(certificates.ServerKeyFile, $"{data}/server.key");
            File.Copy(certificates.CaFile, $"{data}/root.crt");
            await File.AppendAllTextAsync($"{data}/postgresql.conf", "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        }

        if (password is not null)
        {
            await File.AppendAllTextAsync($"{data}/postgresql.conf", $"password_encryption = 'scram-sha-256'\n");
        }

        await File.WriteAllTextAsync($"{data}/pg_hba.conf", hba);
        await ProcessRunner.Run("chown", ["-R", "postgres:postgres", data]);
        if (certificates is not null)
        {
            // PostgreSQL refuses a key others may read
            await ProcessRunner.Run("chmod", ["600", $"{data}/server.key"]);
        }
    }

    /// <summary>Sets the password of the postgres user over the local socket (trusted), once the server runs.</summary>
    async Task SetPassword()
    {
        var socket = new NpgsqlConnectionStringBuilder { Host = folder, Port = Port, Database = "postgres", Username = "postgres", Pooling = false };
        await using var admin = new NpgsqlConnection(socket.ConnectionString);
        await admin.OpenAsync();
        // a literal: ALTER ROLE takes no parameters; the test's own random password has no quote
        await using var alter = new NpgsqlCommand($"ALTER ROLE postgres PASSWORD '{password!.Replace("'", "''", StringComparison.Ordinal)}'", admin);
        await alter.ExecuteNonQueryAsync();
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
