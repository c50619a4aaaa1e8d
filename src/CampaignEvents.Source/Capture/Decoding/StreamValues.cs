using CampaignEvents.Source.Mapping;

namespace CampaignEvents.Source.Capture.Decoding;

/// <summary>A column of a table as a relation message describes it: its name and its type's id.</summary>
internal readonly record struct RelationColumn(string Name, uint TypeId);

/// <summary>
/// A table as a relation message describes it: the relation id the row messages refer to, its
/// schema (empty for pg_catalog, as pgoutput sends it), its name and its columns in row order.
/// </summary>
internal sealed record StreamRelation(uint Id, string Namespace, string Name, IReadOnlyList<RelationColumn> Columns);

/// <summary>One value of a row in the stream: its text form, NULL, or an unchanged TOASTed value that was not sent again.</summary>
internal readonly record struct TupleValue(string? Text, bool Unchanged)
{
    public static readonly TupleValue Null = new(null, false);

    public static readonly TupleValue UnchangedToast = new(null, true);

    public static TupleValue Of(string text) => new(text, false);
}

/// <summary>The column types of these type ids (read from the source's catalog in production, <see cref="ColumnType.Resolve"/>).</summary>
internal delegate Task<IReadOnlyDictionary<uint, ColumnType>> ResolveColumnTypes(IReadOnlyCollection<uint> typeIds, CancellationToken cancel);
