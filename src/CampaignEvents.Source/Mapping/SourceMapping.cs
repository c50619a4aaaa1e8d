using System.Text;
using System.Text.Json;
using CampaignEvents.Infrastructure.Phones;
using CampaignEvents.Source.Configuration;

namespace CampaignEvents.Source.Mapping;

/// <summary>
/// How rows of the external database become contacts and campaigns, from <see cref="SourceOptions"/>:
/// the one mapping (registered once, <see cref="SourceMappingRegistration"/>) that the snapshot, the
/// replication stream, polling, the preflight and the source side of reconciliation all use, so
/// every reader sees the same contacts. Metadata folded from columns keeps each column's JSON type
/// as PostgreSQL's <c>to_jsonb</c> renders it (docs/adr/0013): SQL readers let PostgreSQL build it
/// (<see cref="MetadataJsonb"/>), the replication stream renders the text it receives by the
/// column's type (<see cref="TextAsJson"/>). A row the sync consumer would refuse (see
/// <see cref="MetadataProblem(JsonElement)"/>) is rejected here, with its reason.
/// </summary>
internal sealed partial class SourceMapping
{
    readonly PhoneNormalizer phones;

    public SourceMapping(SourceOptions options)
    {
        Options = options;
        Campaigns = TableName.Parse(options.CampaignsTable);
        Contacts = TableName.Parse(options.ContactsTable);
        phones = new PhoneNormalizer(options.DefaultRegion);
        MetadataColumns = string.IsNullOrWhiteSpace(options.MetadataColumn) ? options.MetadataColumns : [options.MetadataColumn];
        FoldsColumns = string.IsNullOrWhiteSpace(options.MetadataColumn);
    }

    public SourceOptions Options { get; }

    public TableName Campaigns { get; }

    public TableName Contacts { get; }

    /// <summary>The columns metadata comes from: the one JSON column, or the columns folded into an object.</summary>
    public IReadOnlyList<string> MetadataColumns { get; }

    /// <summary>True when metadata is built from <see cref="MetadataColumns"/> by column name.</summary>
    public bool FoldsColumns { get; }

    public bool HasIdColumn => !string.IsNullOrWhiteSpace(Options.IdColumn);

    /// <summary>The columns the campaigns table must have (fixed shape: it is the local one), in the order <see cref="CampaignSelectList"/> returns them.</summary>
    public static readonly string[] CampaignColumns = ["id", "name", "type", "status", "config"];

    /// <summary>The select list for campaigns, every column as text, in the order of <see cref="CampaignColumns"/>.</summary>
    public static string CampaignSelectList { get; } = string.Join(", ", CampaignColumns.Select(c => $"{Quote(c)}::text"));

    /// <summary>A contact column of the row alias <paramref name="alias"/>, quoted.</summary>
    public static string Column(string alias, string column) => $"{alias}.{Quote(column)}";

    /// <summary>
    /// The select list for contacts of the row alias <paramref name="alias"/>, four text columns:
    /// campaign, phone, row id (or NULL), metadata (the JSON column's text, or the folded object).
    /// </summary>
    public string ContactSelectList(string alias)
    {
        var id = HasIdColumn ? $"{Column(alias, Options.IdColumn)}::text" : "NULL::text";
        return $"{Column(alias, Options.CampaignColumn)}::text, {Column(alias, Options.PhoneColumn)}::text, {id}, {MetadataText(alias)}";
    }

    /// <summary>
    /// The metadata of a row as text, as the adapter reads it: the JSON column as it is (a value
    /// that is not JSON is rejected per row, not by the query), or the folded object.
    /// </summary>
    public string MetadataText(string alias) =>
        FoldsColumns ? $"{MetadataJsonb(alias)}::text" : $"{Column(alias, MetadataColumns[0])}::text";

    /// <summary>
    /// The metadata of a row as jsonb: the JSON column (an empty object for NULL), or the folded
    /// columns as <c>jsonb_build_object(name, column, …)</c>, each rendered by to_jsonb, NULL as null.
    /// In sessions pinned by <see cref="SourceSession"/>.
    /// </summary>
    public string MetadataJsonb(string alias)
    {
        if (!FoldsColumns)
        {
            return $"coalesce({Column(alias, MetadataColumns[0])}::jsonb, '{{}}'::jsonb)";
        }

        // a function takes at most 100 arguments: 50 columns per jsonb_build_object, joined with ||
        var parts = MetadataColumns
            .Chunk(50)
            .Select(chunk => $"jsonb_build_object({string.Join(", ", chunk.Select(c => $"{Literal(c)}, {Column(alias, c)}"))})")
            .ToList();
        return parts.Count switch
        {
            0 => "'{}'::jsonb",
            1 => parts[0],
            _ => $"({string.Join(" || ", parts)})",
        };
    }

    /// <summary>Normalizes a source phone as the adapter does (E.164), or says why it cannot.</summary>
    public string? NormalizePhone(string? raw, out string? reason) => phones.Normalize(raw, out reason);

    /// <summary>Maps a contact row read by SQL (<see cref="ContactSelectList"/>): campaign, phone, id, metadata as JSON text.</summary>
    public MappedContact MapContact(string? campaign, string? phone, string? rowId, string? metadata) =>
        Map(campaign, phone, rowId, () => metadata is null ? EmptyObject : JsonElement.Parse(metadata, ParseOptions));

    /// <summary>
    /// Maps a contact row of the replication stream: the text values of the metadata columns, in
    /// the order of <see cref="MetadataColumns"/>, with their column types.
    /// </summary>
    public MappedContact MapStreamedContact(string? campaign, string? phone, string? rowId, IReadOnlyList<string?> metadataValues, IReadOnlyList<ColumnType> types) =>
        Map(campaign, phone, rowId, () => BuildMetadata(metadataValues, types));

    MappedContact Map(string? campaign, string? phone, string? rowId, Func<JsonElement> buildMetadata)
    {
        var raw = phone ?? "";
        if (campaign is null || !Guid.TryParse(campaign, out var campaignId))
        {
            return new MappedContact(Guid.Empty, null, default, rowId, raw, $"campaign id '{campaign}' is not a uuid");
        }

        var e164 = phones.Normalize(phone, out var reason);
        if (e164 is null)
        {
            return new MappedContact(campaignId, null, default, rowId, raw, reason);
        }

        JsonElement metadata;
        try
        {
            metadata = buildMetadata();
        }
        catch (JsonException e)
        {
            return new MappedContact(campaignId, null, default, rowId, raw, $"metadata is not JSON ({e.Message})");
        }

        return MetadataProblem(metadata) is { } problem
            ? new MappedContact(campaignId, null, default, rowId, raw, problem)
            : new MappedContact(campaignId, e164, metadata, rowId, raw, null);
    }


    /// <summary>Only the key of a row (for the old side of an update or a delete); null when it does not map to a valid key.</summary>
    public (Guid CampaignId, string PhoneNumber)? MapKey(string? campaign, string? phone)
    {
        if (campaign is null || !Guid.TryParse(campaign, out var campaignId))
        {
            return null;
        }

        var e164 = phones.Normalize(phone, out _);
        return e164 is null ? null : (campaignId, e164);
    }

    JsonElement BuildMetadata(IReadOnlyList<string?> values, IReadOnlyList<ColumnType> types)
    {
        if (MetadataColumns.Count == 0)
        {
            return EmptyObject;
        }

        if (!FoldsColumns)
        {
            return values[0] is { } json ? JsonElement.Parse(json, ParseOptions) : EmptyObject;
        }

        // each column as to_jsonb renders its type, NULL as null: what jsonb_build_object gives the SQL readers
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            for (var i = 0; i < MetadataColumns.Count; i++)
            {
                writer.WritePropertyName(MetadataColumns[i]);
                if (values[i] is { } value)
                {
                    TextAsJson.Write(writer, value, types[i]);
                }
                else
                {
                    writer.WriteNullValue();
                }
            }

            writer.WriteEndObject();
        }

        return JsonElement.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), ParseOptions);
    }

    static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>Quotes an identifier for SQL, doubling embedded quotes.</summary>
    public static string Quote(string identifier)
    {
        var builder = new StringBuilder(identifier.Length + 2).Append('"');
        foreach (var c in identifier)
        {
            builder.Append(c == '"' ? "\"\"" : c.ToString());
        }

        return builder.Append('"').ToString();
    }

    /// <summary>A string literal for SQL, doubling embedded quotes.</summary>
    public static string Literal(string text) => $"'{text.Replace("'", "''", StringComparison.Ordinal)}'";
}
