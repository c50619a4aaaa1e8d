namespace CampaignEvents.Source.Mapping;

/// <summary>
/// database/source/001_default_source_schema.sql: the default external-database shape
/// (campaigns and contacts like the local tables, contacts REPLICA IDENTITY FULL, updated_at kept
/// by a trigger), for tests, the demo and the benchmarks. Never applied to the local database.
/// </summary>
public static class DefaultSourceSchema
{
    public static string Sql { get; } = Load();

    static string Load()
    {
        using var stream = typeof(DefaultSourceSchema).Assembly.GetManifestResourceStream("source/001_default_source_schema.sql")
            ?? throw new InvalidOperationException("the default source schema is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
