using System.Data;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Mapping;
using CampaignEvents.Source.Publishing;
using CampaignEvents.Source.State;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using Npgsql.Replication;
using CampaignEvents.Infrastructure.Versions;

namespace CampaignEvents.Source.Capture;

/// <summary>
/// The initial snapshot of replication capture (docs/adr/0004): every row, read inside the exported
/// snapshot of a temporary slot and published with that snapshot's version; recorded as completed
/// in the local state only once the broker confirmed all of it.
/// </summary>
internal sealed partial class ReplicationSnapshot(
    SourceOptions settings,
    NpgsqlDataSource source,
    AdapterState state,
    SourceMapping mapping,
    IEventSink sink,
    SourceMetrics metrics,
    RejectedRows rejections,
    ILogger logger)
{
    public async Task Take(NpgsqlConnectionStringBuilder connectionString, string key, CancellationToken cancel)
    {
        // The permanent slot already holds every change from its own start. A temporary slot gives an
        // exported snapshot and its exact consistent point: everything committed before the point is
        // in the snapshot (version ForSnapshot(point)), everything after it is streamed with a higher
        // version. Changes between the two points are streamed too, with lower versions: harmless.
        await using var exporter = new LogicalReplicationConnection(connectionString.ConnectionString);
        await exporter.Open(cancel);
        var temporary = await exporter.CreatePgOutputReplicationSlot(
            $"{settings.SlotName}_s{Guid.NewGuid():N}"[..Math.Min(63, settings.SlotName.Length + 10)],
            temporarySlot: true,
            LogicalSlotSnapshotInitMode.Export,
            cancellationToken: cancel);
        var point = (ulong)temporary.ConsistentPoint;
        var snapshotName = temporary.SnapshotName ?? throw new InvalidOperationException("the source exported no snapshot");
        if (!SnapshotNamePattern().IsMatch(snapshotName))
        {
            throw new InvalidOperationException($"unexpected snapshot name {snapshotName}");
        }

        var version = SourceVersion.ForSnapshot(point);
        var at = DateTimeOffset.UtcNow;
        var started = System.Diagnostics.Stopwatch.StartNew();
        LogSnapshotStarting(settings.SlotName, temporary.ConsistentPoint.ToString());

        await using var connection = await source.OpenConnectionAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancel);
        await connection.ExecuteAsync(new CommandDefinition($"SET TRANSACTION SNAPSHOT '{snapshotName}'", transaction: transaction, cancellationToken: cancel));
        await connection.ExecuteAsync(new CommandDefinition(SourceSession.PinSql, transaction: transaction, cancellationToken: cancel));

        var reader = new SnapshotReader(mapping);
        var publisher = new ChangePublisher(sink, settings.BatchSize, settings.MaxInFlight, settings.ConfirmTimeout, settings.MaxBatchBytes);
        var campaigns = await reader.Campaigns(connection, version, at, cancel);
        rejections.Report(campaigns);
        await publisher.Add(campaigns, cancel);
        await publisher.Drain(cancel);

        var rows = await PublishContacts(connection, reader, publisher, version, at, cancel);
        await publisher.Drain(cancel);
        metrics.PublishedChanges.Add(publisher.PublishedChanges);
        await transaction.CommitAsync(cancel);

        await state.SnapshotCompleted(key, point, cancel);
        LogSnapshotCompleted(settings.SlotName, campaigns.Campaigns.Count, rows, publisher.PublishedMessages, started.Elapsed.TotalSeconds);
    }

    /// <summary>Publishes the contacts page by page; the next page is read and mapped while the previous one is published.</summary>
    async Task<long> PublishContacts(NpgsqlConnection connection, SnapshotReader reader, ChangePublisher publisher, long version, DateTimeOffset at, CancellationToken cancel)
    {
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var pages = Channel.CreateBounded<FoldedChanges>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        var reads = Task.Run(
            async () =>
            {
                try
                {
                    await reader.Contacts(connection, settings.SnapshotPageSize, version, at, page => pages.Writer.WriteAsync(page, reading.Token).AsTask(), reading.Token);
                    pages.Writer.Complete();
                }
                catch (Exception e)
                {
                    pages.Writer.Complete(e);
                }
            },
            CancellationToken.None);
        long rows = 0;
        try
        {
            await foreach (var page in pages.Reader.ReadAllAsync(cancel))
            {
                rows += page.Contacts.Count + page.Rejected.Count;
                metrics.SnapshotRows.Add(page.Contacts.Count + page.Rejected.Count);
                rejections.Report(page);
                await publisher.Add(page, cancel);
            }
        }
        finally
        {
            await reading.CancelAsync();
            await reads;
        }

        return rows;
    }

    [GeneratedRegex("^[0-9A-Fa-f-]+$")]
    private static partial Regex SnapshotNamePattern();

    [LoggerMessage(Level = LogLevel.Information, Message = "Initial snapshot for slot {Slot} at consistent point {Lsn} starting")]
    partial void LogSnapshotStarting(string slot, string lsn);

    [LoggerMessage(Level = LogLevel.Information, Message = "Initial snapshot for slot {Slot} completed: {Campaigns} campaigns, {Rows} contact rows, {Messages} messages in {Seconds:0.0} s")]
    partial void LogSnapshotCompleted(string slot, int campaigns, long rows, long messages, double seconds);
}
