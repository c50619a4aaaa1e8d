using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Mapping;
using CampaignEvents.Source.Preflight;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>A source the adapter cannot use gets one line that says what is missing and how to fix it.</summary>
public sealed class SourcePreflightTests(IsolatedSourceDatabase source) : IClassFixture<IsolatedSourceDatabase>
{
    async Task DefaultShape()
    {
        await using var connection = await source.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(DefaultSourceSchema.Sql);
        await connection.ExecuteAsync("ALTER TABLE contacts REPLICA IDENTITY FULL");
    }

    [Fact]
    public async Task A_source_in_the_default_shape_passes()
    {
        await DefaultShape();
        await SourcePreflight.CheckAsync(source.DataSource, new SourceOptions());
    }

    [Fact]
    public async Task A_contacts_table_without_replica_identity_full_is_explained()
    {
        await DefaultShape();
        await using (var connection = await source.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("ALTER TABLE contacts REPLICA IDENTITY DEFAULT");
        }

        try
        {
            var error = await Assert.ThrowsAsync<SettingsException>(() => SourcePreflight.CheckAsync(source.DataSource, new SourceOptions()));
            Assert.Contains("REPLICA IDENTITY FULL", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error.Message);
        }
        finally
        {
            await using var connection = await source.DataSource.OpenConnectionAsync();
            await connection.ExecuteAsync("ALTER TABLE contacts REPLICA IDENTITY FULL");
        }
    }

    [Fact]
    public async Task A_missing_table_or_column_names_the_setting()
    {
        await DefaultShape();
        var table = await Assert.ThrowsAsync<SettingsException>(() => SourcePreflight.CheckAsync(source.DataSource, new SourceOptions { ContactsTable = "public.people" }));
        Assert.Contains("Source__ContactsTable", table.Message, StringComparison.Ordinal);
        var column = await Assert.ThrowsAsync<SettingsException>(() => SourcePreflight.CheckAsync(source.DataSource, new SourceOptions { PhoneColumn = "phone" }));
        Assert.Contains("Source__PhoneColumn", column.Message, StringComparison.Ordinal);
        var polling = await Assert.ThrowsAsync<SettingsException>(() => SourcePreflight.CheckAsync(source.DataSource, new SourceOptions { Mode = CaptureMode.Polling, PollingColumn = "changed_at" }));
        Assert.Contains("Source__PollingColumn", polling.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_user_without_the_replication_privilege_gets_one_line_from_the_run_command()
    {
        await DefaultShape();
        var role = $"ce_norepl_{Guid.NewGuid():N}"[..24];
        var password = Guid.NewGuid().ToString("N");
        await using (var admin = new NpgsqlConnection(source.Stack.Postgres.ConnectionString))
        {
            await admin.OpenAsync();
            await admin.ExecuteAsync($"CREATE ROLE {role} LOGIN NOREPLICATION PASSWORD '{password}'");
        }

        try
        {
            var connection = new NpgsqlConnectionStringBuilder(source.Connection.ConnectionString) { Username = role, Password = password };
            var (exit, output) = await RunSource(connection.ConnectionString);
            Assert.Equal(1, exit);
            Assert.Contains($"error: source database", output, StringComparison.Ordinal);
            Assert.Contains($"ALTER ROLE \"{role}\" REPLICATION", output, StringComparison.Ordinal);
            NoStackTrace(output);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(source.Stack.Postgres.ConnectionString);
            await admin.OpenAsync();
            await admin.ExecuteAsync($"DROP ROLE IF EXISTS {role}");
        }
    }

    [Fact]
    public async Task A_source_without_wal_level_logical_gets_one_line_from_the_run_command()
    {
        await using var server = await ThrowawayPostgres.Start("replica");
        var (exit, output) = await RunSource(server.ConnectionString);
        Assert.Equal(1, exit);
        Assert.Contains("wal_level=replica", output, StringComparison.Ordinal);
        Assert.Contains("set wal_level=logical in postgresql.conf and restart", output, StringComparison.Ordinal);
        NoStackTrace(output);
    }

    static void NoStackTrace(string output)
    {
        Assert.DoesNotContain("Hosting failed to start", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    static async Task<(int Exit, string Output)> RunSource(string sourceConnection)
    {
        var stack = await TestStack.Get();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "campaign-events.dll"), "run", "--role", "source"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ConnectionStrings__Source"] = sourceConnection;
        start.Environment["ConnectionStrings__Contacts"] = stack.Postgres.ConnectionString;
        start.Environment["RabbitMq__Password"] = stack.Rabbit.Password;
        start.Environment["Source__SlotName"] = "never_created";
        start.Environment["Observability__MetricsPort"] = "0";
        start.Environment["Observability__HealthPort"] = "0";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}

/// <summary>
/// A PostgreSQL of the test's own (initdb into a temporary folder, a free port, loopback only),
/// for what the shared server cannot show, such as wal_level=replica. Needs the server binaries
/// and root (initdb runs as the postgres user); skipped with the reason otherwise.
/// </summary>
public sealed class ThrowawayPostgres : IAsyncDisposable
{
    readonly string directory;
    readonly string bin;

    ThrowawayPostgres(string directory, string bin, int port)
    {
        this.directory = directory;
        this.bin = bin;
        ConnectionString = $"Host=127.0.0.1;Port={port};Database=postgres;Username=postgres;Timeout=5";
    }

    public string ConnectionString { get; }

    public static async Task<ThrowawayPostgres> Start(string walLevel)
    {
        var bin = Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb"))) : null;
        if (bin is null || Environment.UserName != "root")
        {
            Assert.Skip("no PostgreSQL server binaries under /usr/lib/postgresql, or not root: cannot start a throwaway server");
        }

        var directory = Path.Combine(Path.GetTempPath(), $"ce-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        await Run("chown", "postgres", directory);
        var port = FreePort();
        var server = new ThrowawayPostgres(directory, bin!, port);
        await Run("su", "postgres", "-c", $"{bin}/initdb -D {directory}/data -A trust -U postgres --no-sync > {directory}/initdb.log 2>&1");
        await Run("su", "postgres", "-c", $"{bin}/pg_ctl -D {directory}/data -l {directory}/server.log -w -o \"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={directory} -c wal_level={walLevel} -c fsync=off\" start > /dev/null");
        return server;
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static async Task Run(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { UseShellExecute = false })!;
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Run("su", "postgres", "-c", $"{bin}/pg_ctl -D {directory}/data -m immediate stop > /dev/null");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
