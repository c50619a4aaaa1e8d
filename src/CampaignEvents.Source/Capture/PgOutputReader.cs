using System.Threading.Channels;
using CampaignEvents.Source.Capture.Decoding;
using CampaignEvents.Source.SlotHealth;
using Microsoft.Extensions.Logging;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;

namespace CampaignEvents.Source.Capture;

/// <summary>
/// Reads the permanent slot's pgoutput stream and hands Npgsql's messages, as our own values, to
/// the <see cref="PgOutputDecoder"/>; each committed transaction and each heartbeat between
/// transactions goes to the publish loop, its rejected rows reported on the way.
/// </summary>
internal sealed partial class PgOutputReader(PgOutputDecoder decoder, SlotMonitor monitor, SourceHeartbeat heartbeat, RejectedRows rejections, ILogger logger)
{
    public async Task Run(LogicalReplicationConnection replication, PgOutputReplicationSlot slot, PgOutputReplicationOptions options, ChannelWriter<FoldedChanges> output, CancellationToken cancel)
    {
        await foreach (var message in replication.StartReplication(slot, options, cancel))
        {
            LogMessage(message.GetType().Name, message.WalEnd.ToString());
            switch (message)
            {
                case BeginMessage begin:
                    decoder.Begin((ulong)begin.TransactionFinalLsn, Utc(begin.TransactionCommitTimestamp));
                    heartbeat.Touch();
                    break;
                case RelationMessage relation:
                    await decoder.Relation(new StreamRelation(relation.RelationId, relation.Namespace, relation.RelationName, [.. relation.Columns.Select(c => new RelationColumn(c.ColumnName, c.DataTypeId))]), cancel);
                    break;
                case InsertMessage insert:
                    decoder.Insert(insert.Relation.RelationId, await Values(insert.NewRow, cancel));
                    break;
                case FullUpdateMessage update:
                    {
                        var old = await Values(update.OldRow, cancel);
                        decoder.Update(update.Relation.RelationId, old, await Values(update.NewRow, cancel));
                        break;
                    }

                case UpdateMessage update:
                    decoder.Update(update.Relation.RelationId, null, await Values(update.NewRow, cancel));
                    break;
                case FullDeleteMessage delete:
                    decoder.Delete(delete.Relation.RelationId, await Values(delete.OldRow, cancel));
                    break;
                case DeleteMessage delete:
                    decoder.Delete(delete.Relation.RelationId, null);
                    break;
                case CommitMessage commit:
                    {
                        var folded = decoder.Commit((ulong)commit.TransactionEndLsn);
                        monitor.Lag.Read((ulong)commit.TransactionEndLsn, Utc(commit.TransactionCommitTimestamp));
                        rejections.Report(folded);
                        await output.WriteAsync(folded, cancel);
                        break;
                    }

                case LogicalDecodingMessage { Prefix: SourceHeartbeat.Prefix } beat:
                    if (decoder.Heartbeat((ulong)beat.MessageLsn) is { } marker)
                    {
                        await output.WriteAsync(marker, cancel);
                    }

                    break;
                case TruncateMessage:
                    decoder.Truncate();
                    break;
            }
        }
    }

    static DateTimeOffset Utc(DateTime timestamp) => new(DateTime.SpecifyKind(timestamp, DateTimeKind.Utc));

    // the tuple must be read to its end before the next message: the values are streamed
    static async Task<TupleValue[]> Values(ReplicationTuple tuple, CancellationToken cancel)
    {
        var values = new TupleValue[tuple.NumColumns];
        var i = 0;
        await foreach (var value in tuple.WithCancellation(cancel))
        {
            values[i++] = value.IsDBNull ? TupleValue.Null
                : value.IsUnchangedToastedValue ? TupleValue.UnchangedToast
                : TupleValue.Of(await value.Get<string>(cancel));
        }

        return values;
    }

    [LoggerMessage(Level = LogLevel.Trace, Message = "Replication message {Type} at {WalEnd}")]
    partial void LogMessage(string type, string walEnd);
}
