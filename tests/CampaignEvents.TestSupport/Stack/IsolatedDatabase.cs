using CampaignEvents.Infrastructure.Database;
using Npgsql;
using Xunit;

namespace CampaignEvents.TestSupport.Stack;

/// <summary>
/// A database of its own for one test class (a class fixture): created empty with the
/// migrations applied, dropped at the end. Nothing leaks between classes.
/// </summary>
public class IsolatedDatabase : IAsyncLifetime
{
    NpgsqlDataSource? dataSource;

    public NpgsqlConnectionStringBuilder Connection { get; private set; } = new();

    public NpgsqlDataSource DataSource => dataSource ?? throw new InvalidOperationException("the database is not created yet");

    public TestStack Stack { get; private set; } = null!;

    /// <summary>Whether the migrations are applied after creation (the external-source side may not want them).</summary>
    protected virtual bool Migrate => true;

    public async ValueTask InitializeAsync()
    {
        Stack = await TestStack.Get();
        Connection = await Databases.Create(Stack, GetType().Name);
        if (Migrate)
        {
            Migrator.Apply(Connection);
        }

        dataSource = NpgsqlDataSource.Create(Connection);
    }

    public async ValueTask DisposeAsync()
    {
        if (dataSource is not null)
        {
            await dataSource.DisposeAsync();
            await Databases.Drop(Stack, Connection.Database!);
        }

        GC.SuppressFinalize(this);
    }
}

/// <summary>A database for the external side of the pipeline: created empty, no migrations.</summary>
public sealed class IsolatedSourceDatabase : IsolatedDatabase
{
    protected override bool Migrate => false;
}

public static class Databases
{
    /// <summary>Creates an empty database with a unique name and returns its connection settings.</summary>
    public static async Task<NpgsqlConnectionStringBuilder> Create(TestStack stack, string purpose)
    {
        var name = $"ce_{new string([.. purpose.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(30)])}_{Guid.NewGuid():N}";
        name = name[..Math.Min(name.Length, 50)];
        await using (var admin = new NpgsqlConnection(stack.Postgres.ConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(stack.Postgres.ConnectionString) { Database = name };
    }

    public static async Task Drop(TestStack stack, string name)
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(stack.Postgres.ConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", admin);

        // FORCE may not end a backend of another role that is still leaving (42501): it ends on its
        // own within moments, so try again; a database left behind after that is only litter, never
        // a reason to fail the test that used it
        string? refusal = null;
        try
        {
            await Eventually.Until(async () =>
            {
                try
                {
                    await drop.ExecuteNonQueryAsync();
                    return true;
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
                {
                    refusal = e.MessageText;
                    return false;
                }
            }, TimeSpan.FromSeconds(5), $"drop test database {name}");
        }
        catch (TimeoutException)
        {
            await Console.Error.WriteLineAsync($"test database {name} left behind: {refusal}");
        }
    }
}
