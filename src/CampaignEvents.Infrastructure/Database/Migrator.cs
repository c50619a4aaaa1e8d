using System.Reflection;
using DbUp;
using DbUp.Engine.Output;
using Npgsql;

namespace CampaignEvents.Infrastructure.Database;

/// <summary>
/// Applies database/migrations/NNN_name.sql in order, once each, journaled in the table
/// <c>schema_migrations</c> by DbUp, then the grants of database/roles/local.sql (every time, so a
/// table a migration adds gets the grant written beside it: docs/adr/0015). Safe to run any number
/// of times. Runs as the owner of the tables.
/// </summary>
public static class Migrator
{
    public const string JournalTable = "schema_migrations";

    public static IReadOnlyList<string> Apply(NpgsqlConnectionStringBuilder connection)
    {
        var upgrader = DeployChanges.To
            .PostgresqlDatabase(connection.ConnectionString)
            .WithScriptsEmbeddedInAssembly(Assembly.GetExecutingAssembly(), name => name.StartsWith("migrations/", StringComparison.Ordinal))
            .JournalToPostgresqlTable("public", JournalTable)
            .WithTransactionPerScript()
            .LogTo(new SilentLog())
            .Build();

        var result = upgrader.PerformUpgrade();
        if (!result.Successful)
        {
            var failed = result.ErrorScript?.Name ?? "a migration";
            throw new MigrationException($"{Strip(failed)} failed: {result.Error.Message}", result.Error);
        }

        try
        {
            using var owner = new NpgsqlConnection(connection.ConnectionString);
            owner.Open();
            RoleGrants.ApplyLocal(owner).GetAwaiter().GetResult();
        }
        catch (PostgresException e)
        {
            throw new MigrationException(
                $"database/roles/local.sql failed: {e.MessageText} ({e.SqlState}); it runs as the owner of the tables, and creating a missing role needs CREATEROLE: create the roles first (infra/up.sh does; README: Identities and permissions)",
                e);
        }

        return [.. result.Scripts.Select(s => Strip(s.Name))];
    }

    /// <summary>Every migration this build carries, in the order they apply.</summary>
    public static IReadOnlyList<string> Known() =>
        [.. Assembly.GetExecutingAssembly().GetManifestResourceNames()
            .Where(n => n.StartsWith("migrations/", StringComparison.Ordinal))
            .Select(Strip)
            .Order(StringComparer.Ordinal)];

    static string Strip(string name) => name.StartsWith("migrations/", StringComparison.Ordinal) ? name["migrations/".Length..] : name;

    sealed class SilentLog : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) { }
        public void LogDebug(string format, params object[] args) { }
        public void LogInformation(string format, params object[] args) { }
        public void LogWarning(string format, params object[] args) { }
        public void LogError(string format, params object[] args) { }
        public void LogError(Exception ex, string format, params object[] args) { }
    }
}

/// <summary>A migration failed; the message names the file and PostgreSQL's reason.</summary>
public sealed class MigrationException(string message, Exception inner) : Exception(message, inner);
