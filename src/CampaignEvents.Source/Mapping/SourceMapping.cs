using System.Text;
using System.Text.Json;
using CampaignEvents.Infrastructure.Phones;
using CampaignEvents.Source.Configuration;

namespace CampaignEvents.Source.Mapping;

/// <summary>A source table name split into schema and table (default schema <c>public</c>).</summary>
public sealed record TableName(string Schema, string Name)
{
    public static TableName Parse(string setting)
    {
        var parts = setting.Split('.', 2, StringSplitOptions.TrimEntries);
        return parts.Length == 2 ? new TableName(parts[0], parts[1]) : new TableName("public", parts[0]);
    }

    /// <summary>The name quoted for SQL.</summary>
    public string Sql => $"{SourceMapping.Quote(Schema)}.{SourceMapping.Quote(Name)}";

    public override string ToString() => $"{Schema}.{Name}";
}

/// <summary>A contact row of the source, mapped: either accepted (E.164 key, metadata) or rejected with the reason.</summary>
public sealed record MappedContact(Guid CampaignId, string? PhoneNumber, JsonElement Metadata, string? RowId, string RawPhone, string? RejectedBecause)
{
    public bool Rejected => RejectedBecause is not null;
}

/// <summary>
/// How rows of the external database become contacts, from <see cref="SourceOptions"/>: the same
/// mapping for the snapshot, the stream, polling and the source side of reconciliation, so every
/// reader sees the same contacts. Every value is read as text (<c>::text</c> in SQL, the text
/// format of pgoutput), so both paths build byte-identical metadata.
/// </summary>
public sealed class SourceMapping
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

    /// <summary>The columns the campaigns table must have (fixed shape: it is the local one).</summary>
    public static readonly string[] CampaignColumns = ["id", "name", "type", "status", "config"];

    /// <summary>Contact columns, in the order <see cref="ContactSelectList"/> returns them: campaign, phone, id (or null), metadata columns.</summary>
    public IReadOnlyList<string> ContactColumns =>
        [Options.CampaignColumn, Options.PhoneColumn, .. HasIdColumn ? [Options.IdColumn] : Array.Empty<string>(), .. MetadataColumns];

    /// <summary>The select list for contacts, every column as text: campaign, phone, row id (or NULL), then the metadata columns.</summary>
    public string ContactSelectList
    {
        get
        {
            var id = HasIdColumn ? $"{Quote(Options.IdColumn)}::text" : "NULL::text";
            var metadata = MetadataColumns.Select(c => $"{Quote(c)}::text");
            return string.Join(", ", [$"{Quote(Options.CampaignColumn)}::text", $"{Quote(Options.PhoneColumn)}::text", id, .. metadata]);
        }
    }

    /// <summary>Maps the text values of one contact row (campaign, phone, id, metadata columns in order).</summary>
    public MappedContact MapContact(string? campaign, string? phone, string? rowId, IReadOnlyList<string?> metadataValues)
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
            metadata = BuildMetadata(metadataValues);
        }
        catch (JsonException e)
        {
            return new MappedContact(campaignId, null, default, rowId, raw, $"metadata is not JSON ({e.Message})");
        }

        if (metadata.ValueKind != JsonValueKind.Object)
        {
            return new MappedContact(campaignId, null, default, rowId, raw, $"metadata is a JSON {metadata.ValueKind}, not an object");
        }

        return new MappedContact(campaignId, e164, metadata, rowId, raw, null);
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

    JsonElement BuildMetadata(IReadOnlyList<string?> values)
    {
        if (MetadataColumns.Count == 0)
        {
            return EmptyObject;
        }

        if (!FoldsColumns)
        {
            return values[0] is { } json ? JsonElement.Parse(json) : EmptyObject;
        }

        // folded columns become string members (null stays null): the same on every path
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            for (var i = 0; i < MetadataColumns.Count; i++)
            {
                if (values[i] is { } value)
                {
                    writer.WriteString(MetadataColumns[i], value);
                }
                else
                {
                    writer.WriteNull(MetadataColumns[i]);
                }
            }

            writer.WriteEndObject();
        }

        return JsonElement.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
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
}
