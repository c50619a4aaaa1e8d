using Dapper;
using Npgsql;

namespace CampaignEvents.Source.Mapping;

/// <summary>
/// The session settings every reader of the external database pins, so values that PostgreSQL
/// renders by session settings come out the same on every path (docs/adr/0013): TimeZone UTC
/// (to_jsonb renders a timestamp with time zone in the session's zone) and DateStyle ISO (the
/// replication stream's text form of dates and timestamps, which <see cref="TextAsJson"/> reads).
/// Whatever the server, database or role default is.
/// </summary>
internal static class SourceSession
{
    /// <summary>For SQL sessions (snapshot, polling, the source side of reconciliation), on each connection before reading.</summary>
    public const string PinSql = "SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO'";

    /// <summary>Pins the settings on an open connection.</summary>
    public static Task Pin(NpgsqlConnection connection, CancellationToken cancel) =>
        connection.ExecuteAsync(new CommandDefinition(PinSql, cancellationToken: cancel));

    /// <summary>
    /// The connection string of a replication connection (a walsender runs no SET of ours): the
    /// same settings as startup parameters, added to whatever <c>Options</c> the setting holds.
    /// </summary>
    public static string ForReplication(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Timezone = "UTC" };
        builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? "-c DateStyle=ISO" : $"{builder.Options} -c DateStyle=ISO";
        return builder.ConnectionString;
    }
}
