using Dapper;
using Npgsql;

namespace CampaignEvents.Source.Mapping;

/// <summary>
/// How PostgreSQL's <c>to_jsonb</c> renders a value of a column's type (the categories of its
/// <c>jsonb_categorize_type</c>, after resolving domains to their base type), so a value received as
/// text (pgoutput) can be rendered the same way (docs/adr/0013).
/// </summary>
internal enum JsonKind
{
    /// <summary>Any other type: a JSON string of the type's text output (text, uuid, enums, intervals…).</summary>
    Text,

    /// <summary>boolean: <c>true</c> / <c>false</c>.</summary>
    Boolean,

    /// <summary>smallint, integer, bigint, real, double precision, numeric: a JSON number, or a string for NaN and the infinities.</summary>
    Number,

    /// <summary>date: <c>"2026-03-01"</c>.</summary>
    Date,

    /// <summary>timestamp: <c>"2026-03-01T12:00:00.5"</c>.</summary>
    Timestamp,

    /// <summary>timestamp with time zone: <c>"2026-03-01T12:00:00.5+00:00"</c>, in UTC (the source session's pinned time zone).</summary>
    TimestampTz,

    /// <summary>json and jsonb: the value itself.</summary>
    Json,

    /// <summary>An array: a JSON array (nested for more dimensions) of its elements' renderings.</summary>
    Array,

    /// <summary>A composite type, or a type with its own cast to json: not rendered from text (only polling can fold it).</summary>
    Unsupported,
}

/// <summary>A column type as the text-to-JSON rendering needs it: its kind, and for an array its element type and delimiter.</summary>
internal sealed record ColumnType(string Name, JsonKind Kind, ColumnType? Element = null, char Delimiter = ',')
{
    public static readonly ColumnType Text = new("text", JsonKind.Text);

    /// <summary>
    /// Reads the kinds of these type ids from the catalog (pg_type), following domains to their
    /// base type and arrays to their element type, as <c>jsonb_categorize_type</c> does.
    /// </summary>
    public static async Task<IReadOnlyDictionary<uint, ColumnType>> Resolve(NpgsqlConnection connection, IEnumerable<uint> typeIds, CancellationToken cancel)
    {
        var rows = new Dictionary<uint, CatalogType>();
        var wanted = typeIds.Distinct().ToList();
        while (wanted.Count > 0)
        {
            var found = await connection.QueryAsync<CatalogType>(new CommandDefinition(TypeFacts, new { oids = wanted.Select(o => (long)o).ToArray() }, cancellationToken: cancel));
            foreach (var row in found)
            {
                rows[(uint)row.Oid] = row;
            }

            wanted = [.. found.SelectMany(r => new[] { (uint)r.Base, (uint)r.Element }).Where(o => o != 0 && !rows.ContainsKey(o)).Distinct()];
        }

        var resolved = new Dictionary<uint, ColumnType>();
        foreach (var id in typeIds.Distinct())
        {
            resolved[id] = Categorize(id, rows);
        }

        return resolved;
    }

    static ColumnType Categorize(uint id, Dictionary<uint, CatalogType> rows)
    {
        if (!rows.TryGetValue(id, out var row))
        {
            return new ColumnType($"type {id}", JsonKind.Unsupported);
        }

        if (row.Base != 0)
        {
            // a domain renders as its base type
            return Categorize((uint)row.Base, rows) with { Name = row.Name };
        }

        var kind = id switch
        {
            16 => JsonKind.Boolean,
            20 or 21 or 23 or 700 or 701 or 1700 => JsonKind.Number,
            1082 => JsonKind.Date,
            1114 => JsonKind.Timestamp,
            1184 => JsonKind.TimestampTz,
            114 or 3802 => JsonKind.Json,
            _ when row.Element != 0 => JsonKind.Array,
            _ when row.Composite || row.JsonCast => JsonKind.Unsupported,
            _ => JsonKind.Text,
        };
        if (kind != JsonKind.Array)
        {
            return new ColumnType(row.Name, kind);
        }

        var element = Categorize((uint)row.Element, rows);
        var delimiter = rows.TryGetValue((uint)row.Element, out var e) && e.Delimiter is { Length: 1 } d ? d[0] : ',';
        return new ColumnType(row.Name, element.Kind == JsonKind.Unsupported ? JsonKind.Unsupported : JsonKind.Array, element, delimiter);
    }

    // An array is what get_element_type calls one: an element type and variable length (not point,
    // whose typelem is float8). A non-builtin type with a cast to json or jsonb is rendered by that
    // cast, and a composite as an object with its field names: neither can be rebuilt from text.
    const string TypeFacts = """
        SELECT t.oid::bigint AS oid,
               format_type(t.oid, NULL) AS name,
               CASE WHEN t.typtype = 'd' THEN t.typbasetype::bigint ELSE 0 END AS base,
               CASE WHEN t.typelem <> 0 AND t.typlen = -1 THEN t.typelem::bigint ELSE 0 END AS element,
               t.typdelim::text AS delimiter,
               (t.typtype = 'c' OR t.typrelid <> 0 OR t.oid IN (2249, 2287)) AS composite,
               (t.oid >= 16384 AND EXISTS (SELECT 1 FROM pg_cast c WHERE c.castsource = t.oid AND c.casttarget IN (114, 3802))) AS jsoncast
        FROM pg_type t
        WHERE t.oid = ANY(@oids)
        """;

    sealed record CatalogType(long Oid, string Name, long Base, long Element, string Delimiter, bool Composite, bool JsonCast);
}
