using CampaignEvents.Source.Mapping;

namespace CampaignEvents.Source.Capture.Decoding;

/// <summary>Which mapped table a relation is, if any.</summary>
internal enum TableKind
{
    Other,
    Campaigns,
    Contacts,
}

/// <summary>
/// Where the mapped columns sit in a table's rows, and for contacts the types of the metadata
/// columns (by the relation's type ids), by which their text is rendered as to_jsonb renders the
/// values (docs/adr/0013). A relation message comes at the start of the stream and after each
/// change of the table's columns, so a changed column type is followed.
/// </summary>
internal sealed record RelationShape(TableKind Kind, int Campaign, int Phone, int Id, int[] Metadata, ColumnType[] MetadataTypes, int[] CampaignFields)
{
    /// <summary>A table that is not mapped: its rows are counted in the transaction's positions, and otherwise passed over.</summary>
    public static readonly RelationShape Other = new(TableKind.Other, -1, -1, -1, [], [], []);

    public static async Task<RelationShape> Of(StreamRelation relation, SourceMapping mapping, ResolveColumnTypes resolve, CancellationToken cancel)
    {
        var columns = relation.Columns.Select(c => c.Name).ToList();
        var table = new TableName(relation.Namespace.Length == 0 ? "pg_catalog" : relation.Namespace, relation.Name);
        if (table == mapping.Contacts)
        {
            int[] metadata = [.. mapping.MetadataColumns.Select(c => columns.IndexOf(c))];
            ColumnType[] types = [.. metadata.Select(_ => ColumnType.Text)];
            if (mapping.FoldsColumns && metadata.Length > 0)
            {
                var kinds = await resolve([.. metadata.Where(i => i >= 0).Select(i => relation.Columns[i].TypeId)], cancel);
                types = [.. metadata.Select(i => i >= 0 ? kinds[relation.Columns[i].TypeId] : ColumnType.Text)];
            }

            return new RelationShape(
                TableKind.Contacts,
                columns.IndexOf(mapping.Options.CampaignColumn),
                columns.IndexOf(mapping.Options.PhoneColumn),
                mapping.HasIdColumn ? columns.IndexOf(mapping.Options.IdColumn) : -1,
                metadata,
                types,
                []);
        }

        if (table == mapping.Campaigns)
        {
            int[] fields = [.. SourceMapping.CampaignColumns.Select(c => columns.IndexOf(c))];
            return new RelationShape(TableKind.Campaigns, fields[0], -1, -1, [], [], fields[1..]);
        }

        return Other;
    }
}
