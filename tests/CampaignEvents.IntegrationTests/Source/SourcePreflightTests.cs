using System.Diagnostics;
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
    public async Task A_folded_column_replication_cannot_render_is_refused_with_its_name_and_polling_takes_it()
    {
        await DefaultShape();
        await using (var connection = await source.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("""
                DO $$ BEGIN CREATE TYPE postal AS (street text, city text); EXCEPTION WHEN duplicate_object THEN NULL; END $$;
                ALTER TABLE contacts ADD COLUMN IF NOT EXISTS address postal, ADD COLUMN IF NOT EXISTS score integer, ADD COLUMN IF NOT EXISTS tags text[];
                """);
        }

        var folded = new SourceOptions { MetadataColumn = "", MetadataColumns = ["score", "tags", "address"] };
        var error = await Assert.ThrowsAsync<SettingsException>(() => SourcePreflight.CheckAsync(source.DataSource, folded));
        Assert.Contains("column address is of type postal", error.Message, StringComparison.Ordinal);
        Assert.Contains("Source__MetadataColumns", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);

        await SourcePreflight.CheckAsync(source.DataSource, new SourceOptions { MetadataColumn = "", MetadataColumns = ["score", "tags"] });
        await SourcePreflight.CheckAsync(source.DataSource, new SourceOptions { Mode = CaptureMode.Polling, MetadataColumn = "", MetadataColumns = ["score", "tags", "address"] });
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
