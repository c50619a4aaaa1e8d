using System.Reflection;
using Npgsql;

namespace CampaignEvents.Infrastructure.Database;

/// <summary>
/// The reviewed grants of database/roles/ (docs/adr/0015): <c>local.sql</c>, which
/// <see cref="Migrator"/> applies after the migrations as the tables' owner, and <c>source.sql</c>,
/// the source admin's one-time step (the demo runs it on the source tables it creates). The tests
/// apply the same files to their own databases.
/// </summary>
public static class RoleGrants
{
    /// <summary>The prefix every role name of the files starts with.</summary>
    public const string RolePrefix = "campaign_events_";

    /// <summary>The publication <c>source.sql</c> creates (Source:PublicationName's default).</summary>
    public const string Publication = "campaign_events";

    /// <summary>The login of each job, by its name in the files.</summary>
    public static class Roles
    {
        public const string Sync = RolePrefix + "sync";
        public const string Adapter = RolePrefix + "adapter";
        public const string Reconcile = RolePrefix + "reconcile";
        public const string Reader = RolePrefix + "reader";
        public const string Pipeline = RolePrefix + "pipeline";
        public const string Source = RolePrefix + "source";
    }

    /// <summary>The text of <c>database/roles/local.sql</c>.</summary>
    public static string LocalSql => Read("roles/local.sql");

    /// <summary>The text of <c>database/roles/source.sql</c>, for another publication name when given.</summary>
    public static string SourceSql(string publication = Publication) =>
        Read("roles/source.sql").Replace($"'{Publication}'", $"'{publication}'", StringComparison.Ordinal);

    /// <summary>Applies <c>local.sql</c> on an open connection of the tables' owner.</summary>
    public static async Task ApplyLocal(NpgsqlConnection owner, CancellationToken cancel = default)
    {
        await using var command = new NpgsqlCommand(LocalSql, owner);
        await command.ExecuteNonQueryAsync(cancel);
    }

    /// <summary>Applies <c>source.sql</c> on an open connection of the source tables' owner (or a superuser).</summary>
    public static async Task ApplySource(NpgsqlConnection owner, string publication = Publication, CancellationToken cancel = default)
    {
        await using var command = new NpgsqlCommand(SourceSql(publication), owner);
        await command.ExecuteNonQueryAsync(cancel);
    }

    static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{name} is not embedded in this build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
