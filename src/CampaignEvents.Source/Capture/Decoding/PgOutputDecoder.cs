using CampaignEvents.Source.Mapping;
using Microsoft.Extensions.Logging;

namespace CampaignEvents.Source.Capture.Decoding;

/// <summary>
/// Turns the messages of a pgoutput stream, in our own terms (<see cref="StreamRelation"/>,
/// <see cref="TupleValue"/>), into folded changes: one <see cref="FoldedChanges"/> per committed
/// transaction (<see cref="TransactionFold"/>), and a marker for a heartbeat between transactions.
/// It holds no connection: the reader fills it from Npgsql's messages, and a test can feed it
/// directly. One decoder per replication session (relation ids are per session).
/// </summary>
internal sealed partial class PgOutputDecoder(SourceMapping mapping, ResolveColumnTypes resolve, ILogger logger)
{
    readonly Dictionary<uint, RelationShape> relations = [];
    TransactionFold? fold;

    /// <summary>The 1-based position of the last row change in the open transaction.</summary>
    long position;

    public void Begin(ulong finalLsn, DateTimeOffset committedAt)
    {
        fold = new TransactionFold(finalLsn, committedAt);
        position = 0;
    }

    public async Task Relation(StreamRelation relation, CancellationToken cancel) =>
        relations[relation.Id] = await RelationShape.Of(relation, mapping, resolve, cancel);

    public void Insert(uint relation, TupleValue[] row)
    {
        position++;
        Row(Require(), Find(relation), null, row);
    }

    /// <summary>An update; <paramref name="old"/> is the whole old row (REPLICA IDENTITY FULL), or null when the table sends none.</summary>
    public void Update(uint relation, TupleValue[]? old, TupleValue[] row)
    {
        position++;
        var shape = Find(relation);
        if (old is null)
        {
            WarnNotFull(shape);
        }

        Row(Require(), shape, old, row);
    }

    /// <summary>A delete; <paramref name="old"/> is the whole old row (REPLICA IDENTITY FULL), or null when the table sends only its key.</summary>
    public void Delete(uint relation, TupleValue[]? old)
    {
        position++;
        var shape = Find(relation);
        if (old is null)
        {
            WarnNotFull(shape);
            return;
        }

        if (shape.Kind == TableKind.Contacts)
        {
            Require().Delete(position, mapping.MapKey(old[shape.Campaign].Text, old[shape.Phone].Text));
        }
    }

    public FoldedChanges Commit(ulong endLsn)
    {
        var folded = Require().Complete(endLsn);
        fold = null;
        return folded;
    }

    /// <summary>
    /// A heartbeat's position, to be confirmed once everything before it is: every transaction
    /// committed before the heartbeat was sent before it. Null inside a transaction.
    /// </summary>
    public FoldedChanges? Heartbeat(ulong lsn) => fold is null ? FoldedChanges.Marker(lsn) : null;

    /// <summary>TRUNCATE carries no rows (the publication does not publish it; reconciliation repairs it).</summary>
    public void Truncate() => LogTruncate();

    void Row(TransactionFold transaction, RelationShape shape, TupleValue[]? old, TupleValue[] current)
    {
        // an unchanged TOASTed value is not sent again; the full old row (REPLICA IDENTITY FULL) has it
        for (var i = 0; i < current.Length; i++)
        {
            if (current[i].Unchanged && old is not null)
            {
                current[i] = old[i];
            }
        }

        switch (shape.Kind)
        {
            case TableKind.Contacts:
                var row = mapping.MapStreamedContact(
                    current[shape.Campaign].Text,
                    current[shape.Phone].Text,
                    shape.Id >= 0 ? current[shape.Id].Text : null,
                    [.. shape.Metadata.Select(i => current[i].Text)],
                    shape.MetadataTypes);
                var oldKey = old is null ? null : mapping.MapKey(old[shape.Campaign].Text, old[shape.Phone].Text);
                transaction.Upsert(position, row, oldKey);
                break;
            case TableKind.Campaigns:
                transaction.Campaign(position, mapping.MapCampaign(
                    current[shape.Campaign].Text,
                    current[shape.CampaignFields[0]].Text,
                    current[shape.CampaignFields[1]].Text,
                    current[shape.CampaignFields[2]].Text,
                    current[shape.CampaignFields[3]].Text));
                break;
        }
    }

    TransactionFold Require() => fold ?? throw new InvalidOperationException("a change arrived outside a transaction");

    RelationShape Find(uint relation) => relations.TryGetValue(relation, out var shape) ? shape : RelationShape.Other;

    void WarnNotFull(RelationShape shape)
    {
        if (shape.Kind == TableKind.Contacts)
        {
            LogNotFull(mapping.Contacts.ToString());
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "TRUNCATE of a captured table is not streamed; run reconciliation with repair")]
    partial void LogTruncate();

    [LoggerMessage(Level = LogLevel.Error, Message = "Table {Table} is not REPLICA IDENTITY FULL: a delete or key change cannot be captured; run ALTER TABLE ... REPLICA IDENTITY FULL")]
    partial void LogNotFull(string table);
}
