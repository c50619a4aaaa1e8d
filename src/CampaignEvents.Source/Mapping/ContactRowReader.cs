using System.Data.Common;

namespace CampaignEvents.Source.Mapping;

/// <summary>Maps the contact row a SQL reader (snapshot, polling) is on.</summary>
internal static class ContactRowReader
{
    /// <summary>
    /// Maps the row's first four columns, selected by <see cref="SourceMapping.ContactSelectList"/>:
    /// campaign, phone, row id and metadata, each as text or NULL.
    /// </summary>
    public static MappedContact MapContact(this SourceMapping mapping, DbDataReader reader)
    {
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        return mapping.MapContact(Text(0), Text(1), Text(2), Text(3));
    }
}
