using CampaignEvents.Infrastructure.Database;
using CampaignEvents.Throwaway;
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

/// <summary>The tests' databases: the same throwaway databases as the benchmark tool's (CampaignEvents.Throwaway).</summary>
public static class Databases
{
    /// <summary>
    /// Creates an empty database with a unique name and returns the administrator's connection
    /// settings to it; the jobs' logins exist on the server (<see cref="Identities.EnsureRoles"/>), so
    /// the migrations' grants (database/roles/local.sql) reach them.
    /// </summary>
    public static async Task<NpgsqlConnectionStringBuilder> Create(TestStack stack, string purpose)
    {
        await Identities.EnsureRoles(stack.Postgres);
        return await ThrowawayDatabases.Create(stack.Postgres, ThrowawayDatabases.Name(purpose));
    }

    public static async Task Drop(TestStack stack, string name)
    {
        // a database left behind is only litter, never a reason to fail the test that used it
        if (await ThrowawayDatabases.Drop(stack.Postgres, name, TimeSpan.FromSeconds(5)) is { } refusal)
        {
            await Console.Error.WriteLineAsync($"test database {name} left behind: {refusal}");
        }
    }
}
