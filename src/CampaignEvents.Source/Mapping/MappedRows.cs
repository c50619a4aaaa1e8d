using System.Text.Json;

namespace CampaignEvents.Source.Mapping;

/// <summary>A source table name split into schema and table (default schema <c>public</c>).</summary>
internal sealed record TableName(string Schema, string Name)
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
internal sealed record MappedContact(Guid CampaignId, string? PhoneNumber, JsonElement Metadata, string? RowId, string RawPhone, string? RejectedBecause)
{
    public bool Rejected => RejectedBecause is not null;
}

/// <summary>A campaign row of the source, mapped: either accepted or rejected with the reason.</summary>
internal sealed record MappedCampaign(Guid Id, string Name, string Type, string Status, JsonElement Config, string? RejectedBecause)
{
    public bool Rejected => RejectedBecause is not null;
}
