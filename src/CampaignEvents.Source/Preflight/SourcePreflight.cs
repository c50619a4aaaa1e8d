using System.ComponentModel.DataAnnotations;
using System.Net.Sockets;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Mapping;
using Dapper;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace CampaignEvents.Source.Preflight;

/// <summary>
/// What the source adapter needs from the external database, checked before it starts: each
/// missing piece stops it with one line that says what and how to fix it (a
/// <see cref="SettingsException"/>, which the command line prints without a stack trace).
/// </summary>
public static class SourcePreflight
{
    const string Facts = """
        SELECT current_setting('wal_level') AS wal_level,
               current_user AS user_name,
               (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS can_replicate
        """;

    const string TableFacts = """
        SELECT c.relreplident::text AS replica_identity,
               array_agg(a.attname::text) FILTER (WHERE a.attnum > 0 AND NOT a.attisdropped) AS columns
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE n.nspname = @schema AND c.relname = @table AND c.relkind IN ('r', 'p')
        GROUP BY c.relreplident
        """;

    // the adapter creates a missing publication itself when it may: as the tables' owner
    const string PublicationFacts = """
        SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = @publication) AS present,
               (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
               OR (pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = @campaigns::regclass), 'USAGE')
                   AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = @contacts::regclass), 'USAGE')) AS can_create
        """;

    /// <summary>
    /// Reads ConnectionStrings:Source and the section Source from configuration and checks them;
    /// for the run command, before the host starts. Throws <see cref="SettingsException"/>.
    /// </summary>
    public static async Task CheckAsync(IConfiguration configuration, CancellationToken cancel = default)
    {
        var options = new SourceOptions();
        configuration.GetSection(SourceOptions.Section).Bind(options);
        var failures = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), failures, validateAllProperties: true))
        {
            throw new SettingsException($"setting {SourceOptions.Section}: {string.Join("; ", failures.Select(f => f.ErrorMessage))}");
        }

        var target = DatabaseSettings.Require(configuration, DatabaseSettings.Source);
        await using var source = NpgsqlDataSource.Create(target);
        await CheckAsync(source, options, cancel);
        await Continuity.SourceContinuity.CheckAsync(configuration, options, source, cancel);
    }

    /// <summary>Checks the source database against the options; throws <see cref="SettingsException"/> with one line.</summary>
    public static async Task CheckAsync(NpgsqlDataSource source, SourceOptions options, CancellationToken cancel = default)
    {
        var target = new NpgsqlConnectionStringBuilder(source.ConnectionString);
        var where = DatabaseSettings.Describe(target);
        var mapping = new SourceMapping(options);
        NpgsqlConnection connection;
        try
        {
            connection = await source.OpenConnectionAsync(cancel);
        }
        catch (NpgsqlException e)
        {
            throw Unreachable(where, DatabaseSettings.TlsFailure(target, e), e);
        }

        await using (connection)
        {
            var facts = await connection.QuerySingleAsync<(string WalLevel, string UserName, bool CanReplicate)>(new CommandDefinition(Facts, cancellationToken: cancel));
            if (options.Mode == CaptureMode.Replication)
            {
                if (facts.WalLevel != "logical")
                {
                    throw new SettingsException(
                        $"source database {where} has wal_level={facts.WalLevel}; the source adapter needs logical replication: set wal_level=logical in postgresql.conf and restart PostgreSQL (or set Source__Mode=Polling)");
                }

                if (!facts.CanReplicate)
                {
                    throw new SettingsException(
                        $"source database {where}: user {facts.UserName} lacks the REPLICATION privilege the source adapter needs: run ALTER ROLE {SourceMapping.Quote(facts.UserName)} REPLICATION as a superuser (or set Source__Mode=Polling)");
                }
            }

            var campaignColumns = await RequireTable(connection, mapping.Campaigns, "Source__CampaignsTable", where, cancel);
            foreach (var column in SourceMapping.CampaignColumns)
            {
                RequireColumn(campaignColumns.Columns, column, mapping.Campaigns, $"the campaigns table of Source__CampaignsTable must be shaped like the local one (id, name, type, status, config)", where);
            }

            var contactColumns = await RequireTable(connection, mapping.Contacts, "Source__ContactsTable", where, cancel);
            RequireColumn(contactColumns.Columns, options.CampaignColumn, mapping.Contacts, "setting Source__CampaignColumn", where);
            RequireColumn(contactColumns.Columns, options.PhoneColumn, mapping.Contacts, "setting Source__PhoneColumn", where);
            if (mapping.HasIdColumn)
            {
                RequireColumn(contactColumns.Columns, options.IdColumn, mapping.Contacts, "setting Source__IdColumn (empty to page by campaign and phone)", where);
            }

            foreach (var column in mapping.MetadataColumns)
            {
                RequireColumn(contactColumns.Columns, column, mapping.Contacts, mapping.FoldsColumns ? "setting Source__MetadataColumns" : "setting Source__MetadataColumn", where);
            }

            if (options.Mode == CaptureMode.Replication && mapping.FoldsColumns)
            {
                await RequireFoldableTypes(connection, mapping, where, cancel);
            }

            if (options.Mode == CaptureMode.Replication && contactColumns.ReplicaIdentity != "f")
            {
                throw new SettingsException(
                    $"source table {mapping.Contacts} has replica identity {Describe(contactColumns.ReplicaIdentity)}, so a delete would not carry the campaign, phone and metadata: run ALTER TABLE {mapping.Contacts.Sql} REPLICA IDENTITY FULL on the source");
            }

            if (options.Mode == CaptureMode.Replication)
            {
                var publication = await connection.QuerySingleAsync<(bool Present, bool CanCreate)>(new CommandDefinition(
                    PublicationFacts, new { publication = options.PublicationName, campaigns = mapping.Campaigns.Sql, contacts = mapping.Contacts.Sql }, cancellationToken: cancel));
                if (!publication.Present && !publication.CanCreate)
                {
                    throw new SettingsException(
                        $"source database {where}: publication {options.PublicationName} does not exist and user {facts.UserName} may not create it (that needs the owner of {mapping.Campaigns} and {mapping.Contacts}): a one-time step of the source's admin, run database/roles/source.sql as the tables' owner (README: Identities and permissions; setting Source__PublicationName)");
                }
            }

            if (options.Mode == CaptureMode.Polling)
            {
                if (!mapping.HasIdColumn)
                {
                    throw new SettingsException("setting Source__IdColumn is empty; polling needs a unique row id as the tiebreak of its keyset (Source__PollingColumn, Source__IdColumn)");
                }

                RequireColumn(campaignColumns.Columns, options.PollingColumn, mapping.Campaigns, "setting Source__PollingColumn", where);
                RequireColumn(contactColumns.Columns, options.PollingColumn, mapping.Contacts, "setting Source__PollingColumn", where);
                RequireColumn(campaignColumns.Columns, options.IdColumn, mapping.Campaigns, "setting Source__IdColumn", where);
            }
        }
    }

    static async Task<(string ReplicaIdentity, string[] Columns)> RequireTable(NpgsqlConnection connection, TableName table, string setting, string where, CancellationToken cancel)
    {
        var found = await connection.QuerySingleOrDefaultAsync<(string ReplicaIdentity, string[]? Columns)?>(
            new CommandDefinition(TableFacts, new { schema = table.Schema, table = table.Name }, cancellationToken: cancel));
        if (found is not { } facts)
        {
            throw new SettingsException($"source database {where} has no table {table} (setting {setting}): create it or point {setting} at the right table");
        }

        return (facts.ReplicaIdentity, facts.Columns ?? []);
    }

    /// <summary>
    /// The stream carries folded columns as text, rendered again by their type (docs/adr/0013):
    /// a composite type, or a type with its own cast to json, cannot be, so replication refuses it
    /// at start (polling, which lets PostgreSQL render every column, takes it).
    /// </summary>
    static async Task RequireFoldableTypes(NpgsqlConnection connection, SourceMapping mapping, string where, CancellationToken cancel)
    {
        var columns = (await connection.QueryAsync<(string Name, long Type)>(new CommandDefinition(
            "SELECT attname::text, atttypid::bigint FROM pg_attribute WHERE attrelid = @table::regclass AND attname = ANY(@columns) AND NOT attisdropped",
            new { table = mapping.Contacts.Sql, columns = mapping.MetadataColumns.ToArray() },
            cancellationToken: cancel))).ToList();
        var types = await ColumnType.Resolve(connection, columns.Select(c => (uint)c.Type), cancel);
        foreach (var (name, type) in columns)
        {
            if (types[(uint)type] is { Kind: JsonKind.Unsupported } unsupported)
            {
                throw new SettingsException(
                    $"source table {mapping.Contacts} in {where}: column {name} is of type {unsupported.Name}, which replication cannot fold into metadata (a composite, or a type with its own cast to json; setting Source__MetadataColumns): fold a column of another type, or set Source__Mode=Polling");
            }
        }
    }

    static void RequireColumn(string[] columns, string column, TableName table, string setting, string where)
    {
        if (!columns.Contains(column, StringComparer.Ordinal))
        {
            throw new SettingsException($"source table {table} in {where} has no column {column} ({setting}); it has: {string.Join(", ", columns)}");
        }
    }

    static string Describe(string identity) => identity switch
    {
        "d" => "DEFAULT (primary key only)",
        "n" => "NOTHING",
        "i" => "USING INDEX",
        _ => identity,
    };

    static SettingsException Unreachable(string where, string? tlsFailure, NpgsqlException e)
    {
        var reason = tlsFailure ?? e switch
        {
            PostgresException pg => $"{pg.MessageText} ({pg.SqlState})",
            { InnerException: SocketException s } => $"nothing answers there ({s.SocketErrorCode})",
            _ => e.Message,
        };
        return new SettingsException($"cannot use the source database of setting ConnectionStrings:Source ({where}): {reason}", e);
    }
}
