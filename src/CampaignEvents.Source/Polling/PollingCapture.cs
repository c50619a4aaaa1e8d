using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Source.Capture;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Continuity;
using CampaignEvents.Source.Mapping;
using CampaignEvents.Source.Publishing;
using CampaignEvents.Source.State;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CampaignEvents.Source.Polling;

/// <summary>
/// The fallback capture (docs/adr/0005): keyset polling on (Source:PollingColumn, Source:IdColumn)
/// of both tables, campaigns first. The version of an event comes from the polling column's value
/// (microseconds since the epoch for a timestamp, 2 × value + 1 for an integer). Deletes are not seen: reconciliation's repair
/// finds them. Positions are saved locally only after the broker confirmed the round.
/// </summary>
internal sealed partial class PollingCapture(
    IOptions<SourceOptions> options,
    [FromKeyedServices(DatabaseSettings.Source)] NpgsqlDataSource source,
    AdapterState state,
    VersionDomainGuard domain,
    IEventSink sink,
    SourceMapping mapping,
    SourceMetrics metrics,
    ILogger<PollingCapture> logger)
{
    const string ColumnType = """
        SELECT format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute a
        WHERE a.attrelid = @table::regclass AND a.attname = @column AND NOT a.attisdropped
        """;

    readonly SourceOptions settings = options.Value;
    readonly RejectedRows rejections = new(mapping, metrics, logger);

    public async Task Run(CancellationToken cancel)
    {
        var database = new NpgsqlConnectionStringBuilder(source.ConnectionString).Database;
        var key = $"polling:{database}:{settings.SlotName}";
        await domain.Check(CaptureMode.Polling, cancel);
        var positions = await state.Polling(key, cancel);
        var campaigns = await Table(mapping.Campaigns, cancel);
        var contacts = await Table(mapping.Contacts, cancel);
        LogPolling(mapping.Contacts.ToString(), settings.PollingColumn, positions.ContactsPosition ?? "the beginning");

        while (!cancel.IsCancellationRequested)
        {
            var publisher = new ChangePublisher(sink, settings.BatchSize, settings.MaxInFlight, settings.ConfirmTimeout, settings.MaxBatchBytes);
            var (campaignRows, campaignPosition, campaignId) = await PollCampaigns(campaigns, positions.CampaignsPosition, positions.CampaignsLastId, publisher, cancel);
            await publisher.Drain(cancel);
            var (contactRows, contactPosition, contactId) = await PollContacts(contacts, positions.ContactsPosition, positions.ContactsLastId, publisher, cancel);
            await publisher.Drain(cancel);
            metrics.PublishedChanges.Add(publisher.PublishedChanges);

            if (campaignRows + contactRows > 0)
            {
                positions = new PollingPositions(campaignPosition, campaignId, contactPosition, contactId);
                await state.SavePollingPositions(key, positions, cancel);
            }

            if (contactRows < settings.SnapshotPageSize && campaignRows < settings.SnapshotPageSize)
            {
                await Task.Delay(settings.PollInterval, cancel);
            }
        }
    }

    sealed record PolledTable(TableName Name, string PollingType, string IdType, bool IsTimestamp);

    async Task<PolledTable> Table(TableName table, CancellationToken cancel)
    {
        await using var connection = await source.OpenConnectionAsync(cancel);
        var pollingType = await connection.ExecuteScalarAsync<string>(new CommandDefinition(ColumnType, new { table = table.Sql, column = settings.PollingColumn }, cancellationToken: cancel))
            ?? throw new SettingsException($"source table {table} has no column {settings.PollingColumn} (setting Source__PollingColumn)");
        var idType = await connection.ExecuteScalarAsync<string>(new CommandDefinition(ColumnType, new { table = table.Sql, column = settings.IdColumn }, cancellationToken: cancel))
            ?? throw new SettingsException($"source table {table} has no column {settings.IdColumn} (setting Source__IdColumn)");
        var isTimestamp = pollingType.StartsWith("timestamp", StringComparison.Ordinal);
        if (!isTimestamp && pollingType is not ("bigint" or "integer" or "smallint" or "numeric"))
        {
            throw new SettingsException($"polling column {settings.PollingColumn} of {table} is {pollingType}; it must be a timestamp or an integer version (setting Source__PollingColumn)");
        }

        return new PolledTable(table, pollingType, idType, isTimestamp);
    }

    string Query(PolledTable table, string selectList, bool after)
    {
        var column = SourceMapping.Quote(settings.PollingColumn);
        var id = SourceMapping.Quote(settings.IdColumn);
        var version = table.IsTimestamp ? TimestampVersion(column) : IntegerVersion(column);
        var conditions = new List<string>();
        if (after)
        {
            conditions.Add($"({column}, {id}) > (@position::{table.PollingType}, @id::{table.IdType})");
        }

        if (table.IsTimestamp)
        {
            // rows stamped just now may belong to transactions still committing older stamps: next round
            conditions.Add($"{column} < now() - @lag::interval");
        }

        var where = conditions.Count > 0 ? "WHERE " + string.Join(" AND ", conditions) : "";
        // ORDER BY qualified: unqualified, it would name the output columns, and an integer column's
        // text and version outputs are both named after it ("ORDER BY ... is ambiguous")
        return $"SELECT {selectList}, {column}::text, {id}::text, {version} FROM {table.Name.Sql} t {where} ORDER BY t.{column}, t.{id} LIMIT {settings.SnapshotPageSize}";
    }

    /// <summary>The version of a row polled on a timestamp column: microseconds since the epoch.</summary>
    public static string TimestampVersion(string column) => $"(extract(epoch FROM {column}) * 1000000)::bigint";

    /// <summary>
    /// The version of a row polled on an integer column: odd, 2 × value + 1, so a read of the source
    /// has an even version of its own between the values it saw and the next one
    /// (<see cref="ReconciliationSide.ReadVersion"/>): a repaired row wins over the newest row it
    /// read, and the next value the column takes wins over the repair.
    /// </summary>
    public static string IntegerVersion(string column) => $"({column}::bigint * 2 + 1)";

    async Task<(int Rows, string? Position, string? Id)> PollCampaigns(PolledTable table, string? position, string? id, ChangePublisher publisher, CancellationToken cancel)
    {
        await using var connection = await source.OpenConnectionAsync(cancel);
        await SourceSession.Pin(connection, cancel);
        var sql = Query(table, SourceMapping.CampaignSelectList, position is not null);
        var rows = (await connection.QueryAsync<(string Id, string? Name, string? Type, string? Status, string? Config, string Position, string RowId, long Version)>(
            new CommandDefinition(sql, new { position, id, lag = settings.PollingLag.ToString("c", System.Globalization.CultureInfo.InvariantCulture) }, cancellationToken: cancel))).ToList();
        if (rows.Count == 0)
        {
            return (0, position, id);
        }

        var mapped = rows.Select(r => (Row: r, Campaign: mapping.MapCampaign(r.Id, r.Name, r.Type, r.Status, r.Config))).ToList();
        // one bad row must not stop polling: reported, and the position moves past it (docs/adr/0004)
        var campaigns = FoldedChanges.OfCampaigns(
            [.. mapped.Where(m => !m.Campaign.Rejected).Select(m => SourceEvents.Campaign(m.Campaign, m.Row.Version, DateTimeOffset.UtcNow))],
            [.. mapped.Where(m => m.Campaign.Rejected).Select(m => m.Campaign)]);
        rejections.Report(campaigns);
        await publisher.Add(campaigns, cancel);
        return (rows.Count, rows[^1].Position, rows[^1].RowId);
    }

    async Task<(int Rows, string? Position, string? Id)> PollContacts(PolledTable table, string? position, string? id, ChangePublisher publisher, CancellationToken cancel)
    {
        await using var connection = await source.OpenConnectionAsync(cancel);
        await SourceSession.Pin(connection, cancel);
        var sql = Query(table, mapping.ContactSelectList("t"), position is not null);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("position", (object?)position ?? DBNull.Value);
        command.Parameters.AddWithValue("id", (object?)id ?? DBNull.Value);
        command.Parameters.AddWithValue("lag", settings.PollingLag.ToString("c", System.Globalization.CultureInfo.InvariantCulture));
        var rows = new ContactPage();
        await using (var reader = await command.ExecuteReaderAsync(cancel))
        {
            while (await reader.ReadAsync(cancel))
            {
                position = reader.GetString(4);
                id = reader.GetString(5);
                rows.Add(mapping.MapContact(reader), reader.GetInt64(6), DateTimeOffset.UtcNow);
            }
        }

        var page = rows.Complete();
        rejections.Report(page);
        await publisher.Add(page, cancel);
        return (rows.Rows, position, id);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Polling {Table} on {Column} from {Position}")]
    partial void LogPolling(string table, string column, string position);
}
