using System.Data;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Continuity;
using CampaignEvents.Source.Mapping;
using CampaignEvents.Source.Publishing;
using CampaignEvents.Source.SlotHealth;
using CampaignEvents.Source.State;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using NpgsqlTypes;

namespace CampaignEvents.Source.Capture;

/// <summary>
/// Logical replication capture (docs/adr/0004): a permanent pgoutput slot; an initial snapshot
/// read inside the exported snapshot of a temporary slot whenever the local state does not record
/// a completed one; then the stream of the permanent slot, published with a confirm window. The
/// slot's confirmed position only moves below what the broker confirmed, so a kill anywhere re-sends.
/// </summary>
public sealed partial class ReplicationCapture(
    IOptions<SourceOptions> options,
    IConfiguration configuration,
    [FromKeyedServices(DatabaseSettings.Source)] NpgsqlDataSource source,
    AdapterState state,
    VersionDomainGuard domain,
    SlotMonitor monitor,
    SourceMapping mapping,
    IEventSink sink,
    SourceMetrics metrics,
    ILogger<ReplicationCapture> logger)
{
    /// <summary>Prefix of the logical decoding messages the adapter writes as heartbeats.</summary>
    public const string HeartbeatPrefix = "campaign-events-heartbeat";

    const string PublicationTables = """
        SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = @publication
        """;

    const string EmitHeartbeat = "SELECT pg_logical_emit_message(false, @prefix, '')";

    readonly SourceOptions settings = options.Value;
    long lastActivityTicks = DateTime.UtcNow.Ticks;

    string StateKey(string database) => StateKey(database, settings.SlotName);

    /// <summary>The key of a slot's snapshot state in source_adapter_state.</summary>
    internal static string StateKey(string database, string slot) => $"replication:{database}:{slot}";

    /// <summary>One capture session: returns only when cancelled; throws on any failure (the caller restarts from the slot).</summary>
    public async Task Run(CancellationToken cancel)
    {
        var connectionString = DatabaseSettings.Require(configuration, DatabaseSettings.Source);
        var key = StateKey(connectionString.Database ?? "");
        await domain.Check(CaptureMode.Replication, cancel);
        await EnsurePublication(cancel);

        await using var replication = new LogicalReplicationConnection(SourceSession.ForReplication(connectionString.ConnectionString))
        {
            WalReceiverStatusInterval = TimeSpan.FromSeconds(1),
        };
        await replication.Open(cancel);

        if (!await EnsureSlot(replication, connectionString.Database ?? "", key, cancel))
        {
            // a new slot starts after whatever an older one (if any) had seen: only a snapshot closes the gap
            await state.ForgetSnapshotOf(key, cancel);
        }

        if (await state.CompletedSnapshot(key, cancel) is null)
        {
            await Snapshot(connectionString, key, cancel);
        }

        await Stream(replication, cancel);
    }

    async Task EnsurePublication(CancellationToken cancel)
    {
        await using var connection = await source.OpenConnectionAsync(cancel);
        var tables = (await connection.QueryAsync<string>(new CommandDefinition(PublicationTables, new { publication = settings.PublicationName }, cancellationToken: cancel))).ToHashSet();
        var wanted = new[] { mapping.Campaigns, mapping.Contacts };
        var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = @publication)", new { publication = settings.PublicationName }, cancellationToken: cancel));
        if (!exists)
        {
            // TRUNCATE is not captured: it carries no rows (reconciliation repairs it, see README)
            var sql = $"CREATE PUBLICATION {SourceMapping.Quote(settings.PublicationName)} FOR TABLE {string.Join(", ", wanted.Select(t => t.Sql))} WITH (publish = 'insert, update, delete')";
            try
            {
                await connection.ExecuteAsync(new CommandDefinition(sql, cancellationToken: cancel));
                LogPublicationCreated(settings.PublicationName);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                throw new SettingsException($"cannot create publication {settings.PublicationName} on the source ({e.MessageText}): create it as the tables' owner with CREATE PUBLICATION {SourceMapping.Quote(settings.PublicationName)} FOR TABLE {string.Join(", ", wanted.Select(t => t.Sql))} (setting Source__PublicationName)", e);
            }

            return;
        }

        foreach (var table in wanted.Where(t => !tables.Contains(t.ToString())))
        {
            throw new SettingsException($"publication {settings.PublicationName} on the source does not include {table}: run ALTER PUBLICATION {SourceMapping.Quote(settings.PublicationName)} ADD TABLE {table.Sql} (setting Source__PublicationName)");
        }
    }

    /// <summary>
    /// True when the slot already existed and can stream (and belongs to this database and
    /// pgoutput); false when it was created, so a snapshot must follow. A slot dropped after a
    /// completed snapshot, or invalidated, is refused unless Source:RecreateSlot (docs/adr/0004).
    /// </summary>
    async Task<bool> EnsureSlot(LogicalReplicationConnection replication, string database, string key, CancellationToken cancel)
    {
        SlotObservation slot;
        await using (var connection = await source.OpenConnectionAsync(cancel))
        {
            slot = await SlotObservation.Read(connection, settings.SlotName, cancel);
        }

        if (slot.Exists && (slot.Plugin != "pgoutput" || slot.Database != database))
        {
            throw new SettingsException($"replication slot {settings.SlotName} on the source belongs to {slot.Database} / {slot.Plugin}, not to {database} / pgoutput: choose another Source__SlotName");
        }

        var snapshotCompleted = await state.CompletedSnapshot(key, cancel) is not null;
        switch (SlotContinuity.Decide(slot, snapshotCompleted, settings.RecreateSlot))
        {
            case SlotDecision.Resume:
                LogResuming(settings.SlotName, slot.ConfirmedFlushLsn ?? "?", slot.WalStatus ?? "?", slot.LagBytes ?? 0);
                return true;
            case SlotDecision.Refuse:
                throw new SettingsException(SlotContinuity.Refusal(slot));
            case SlotDecision.Recreate:
                LogRecreating(settings.SlotName, slot.Lost ? "invalidated (wal_status lost)" : "dropped");
                if (slot.Exists)
                {
                    await using var connection = await source.OpenConnectionAsync(cancel);
                    await connection.ExecuteAsync(new CommandDefinition("SELECT pg_drop_replication_slot(@slot)", new { slot = settings.SlotName }, cancellationToken: cancel));
                }

                break;
        }

        // forgotten before the new slot exists: a crash between the two must still lead to a new
        // snapshot, never to a resume from a new slot with the old snapshot counted as complete
        await state.ForgetSnapshotOf(key, cancel);
        var created = await replication.CreatePgOutputReplicationSlot(settings.SlotName, temporarySlot: false, LogicalSlotSnapshotInitMode.NoExport, cancellationToken: cancel);
        LogSlotCreated(settings.SlotName, created.ConsistentPoint.ToString());
        return false;
    }

    async Task Snapshot(NpgsqlConnectionStringBuilder connectionString, string key, CancellationToken cancel)
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
        var (campaigns, rejectedCampaigns) = await reader.Campaigns(connection, version, at, cancel);
        RejectCampaigns(rejectedCampaigns);
        await publisher.Add(new FoldedChanges(0, campaigns, [], [], []), cancel);
        await publisher.Drain(cancel);

        // the next page is read and mapped while the previous one is published
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
                rows += page.Changes.Count + page.Rejected.Count;
                metrics.SnapshotRows.Add(page.Changes.Count + page.Rejected.Count);
                Reject(page.Rejected);
                await publisher.Add(page, cancel);
            }
        }
        finally
        {
            await reading.CancelAsync();
            await reads;
        }

        await publisher.Drain(cancel);
        metrics.PublishedChanges.Add(publisher.PublishedChanges);
        await transaction.CommitAsync(cancel);

        await state.SnapshotCompleted(key, point, cancel);
        LogSnapshotCompleted(settings.SlotName, campaigns.Count, rows, publisher.PublishedMessages, started.Elapsed.TotalSeconds);
    }

    async Task Stream(LogicalReplicationConnection replication, CancellationToken cancel)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var channel = Channel.CreateBounded<FoldedChanges>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = false });
        var slot = new PgOutputReplicationSlot(settings.SlotName);
        var replicationOptions = new PgOutputReplicationOptions(settings.PublicationName, PgOutputProtocolVersion.V1, binary: false, streamingMode: null, messages: true, twoPhase: null);

        var reading = Read(replication, slot, replicationOptions, channel.Writer, session.Token);
        var publishing = Publish(replication, channel.Reader, session.Token);
        var beating = Heartbeat(session.Token);
        var first = await Task.WhenAny(reading, publishing, beating);
        await session.CancelAsync();
        try
        {
            await Task.WhenAll(reading, publishing, beating);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested || first.IsFaulted)
        {
        }

        // the task that ended first says why: a failure to restart from, or the caller's cancellation
        await first;
        cancel.ThrowIfCancellationRequested();
    }

    async Task Read(LogicalReplicationConnection replication, PgOutputReplicationSlot slot, PgOutputReplicationOptions replicationOptions, ChannelWriter<FoldedChanges> output, CancellationToken cancel)
    {
        var relations = new Dictionary<uint, RelationShape>();
        TransactionFold? fold = null;
        long position = 0;
        await foreach (var message in replication.StartReplication(slot, replicationOptions, cancel))
        {
            LogMessage(message.GetType().Name, message.WalEnd.ToString());
            switch (message)
            {
                case BeginMessage begin:
                    fold = new TransactionFold((ulong)begin.TransactionFinalLsn, new DateTimeOffset(DateTime.SpecifyKind(begin.TransactionCommitTimestamp, DateTimeKind.Utc)));
                    position = 0;
                    Interlocked.Exchange(ref lastActivityTicks, DateTime.UtcNow.Ticks);
                    break;
                case RelationMessage relation:
                    relations[relation.RelationId] = await Shape(relation, cancel);
                    break;
                case InsertMessage insert:
                    position++;
                    await Row(Require(fold), position, Find(relations, insert.Relation), null, await Values(insert.NewRow, cancel));
                    break;
                case FullUpdateMessage update:
                    {
                        position++;
                        var old = await Values(update.OldRow, cancel);
                        var current = await Values(update.NewRow, cancel);
                        await Row(Require(fold), position, Find(relations, update.Relation), old, current);
                        break;
                    }

                case UpdateMessage update:
                    position++;
                    WarnNotFull(update.Relation);
                    await Row(Require(fold), position, Find(relations, update.Relation), null, await Values(update.NewRow, cancel));
                    break;
                case FullDeleteMessage delete:
                    {
                        position++;
                        var shape = Find(relations, delete.Relation);
                        var old = await Values(delete.OldRow, cancel);
                        if (shape.Kind == TableKind.Contacts)
                        {
                            Require(fold).Delete(position, mapping.MapKey(old[shape.Campaign].Text, old[shape.Phone].Text));
                        }

                        break;
                    }

                case DeleteMessage delete:
                    position++;
                    WarnNotFull(delete.Relation);
                    break;
                case CommitMessage commit:
                    {
                        var folded = Require(fold).Complete((ulong)commit.TransactionEndLsn);
                        fold = null;
                        monitor.Lag.Read((ulong)commit.TransactionEndLsn, new DateTimeOffset(DateTime.SpecifyKind(commit.TransactionCommitTimestamp, DateTimeKind.Utc)));
                        await output.WriteAsync(folded, cancel);
                        break;
                    }

                case LogicalDecodingMessage { Prefix: HeartbeatPrefix } beat when fold is null:
                    // every transaction committed before the heartbeat was sent before it
                    await output.WriteAsync(FoldedChanges.Marker((ulong)beat.MessageLsn), cancel);
                    break;
                case TruncateMessage:
                    LogTruncate();
                    break;
            }
        }
    }

    async Task Row(TransactionFold fold, long position, RelationShape shape, Value[]? old, Value[] current)
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
                {
                    var row = mapping.MapStreamedContact(
                        current[shape.Campaign].Text,
                        current[shape.Phone].Text,
                        shape.Id >= 0 ? current[shape.Id].Text : null,
                        [.. shape.Metadata.Select(i => current[i].Text)],
                        shape.MetadataTypes);
                    var oldKey = old is null ? null : mapping.MapKey(old[shape.Campaign].Text, old[shape.Phone].Text);
                    fold.Upsert(position, row, oldKey);
                    if (row.Rejected)
                    {
                        Reject([row]);
                    }

                    break;
                }

            case TableKind.Campaigns:
                {
                    var campaign = mapping.MapCampaign(
                        current[shape.Campaign].Text,
                        current[shape.CampaignFields[0]].Text,
                        current[shape.CampaignFields[1]].Text,
                        current[shape.CampaignFields[2]].Text,
                        current[shape.CampaignFields[3]].Text);
                    if (campaign.Rejected)
                    {
                        // one bad row must not stop capture: logged, counted, and the stream goes on (docs/adr/0004)
                        RejectCampaigns([campaign]);
                    }
                    else
                    {
                        fold.Campaign(position, campaign.Id, campaign.Name, campaign.Type, campaign.Status, campaign.Config);
                    }

                    break;
                }
        }

        await Task.CompletedTask;
    }

    static TransactionFold Require(TransactionFold? fold) => fold ?? throw new InvalidOperationException("a change arrived outside a transaction");

    static RelationShape Find(Dictionary<uint, RelationShape> relations, RelationMessage relation) =>
        relations.TryGetValue(relation.RelationId, out var shape) ? shape : RelationShape.Other;

    /// <summary>
    /// Where the mapped columns sit in a table's rows, and for contacts the types of the metadata
    /// columns (read from the catalog by the relation's type ids), by which their text is rendered
    /// as to_jsonb renders the values (docs/adr/0013). A relation message comes at the start of the
    /// stream and after each change of the table's columns, so a changed column type is followed.
    /// </summary>
    async Task<RelationShape> Shape(RelationMessage relation, CancellationToken cancel)
    {
        var columns = relation.Columns.Select(c => c.ColumnName).ToList();
        var table = new TableName(relation.Namespace.Length == 0 ? "pg_catalog" : relation.Namespace, relation.RelationName);
        if (table == mapping.Contacts)
        {
            int[] metadata = [.. mapping.MetadataColumns.Select(c => columns.IndexOf(c))];
            ColumnType[] types = [.. metadata.Select(_ => ColumnType.Text)];
            if (mapping.FoldsColumns && metadata.Length > 0)
            {
                await using var connection = await source.OpenConnectionAsync(cancel);
                var kinds = await ColumnType.Resolve(connection, metadata.Where(i => i >= 0).Select(i => relation.Columns[i].DataTypeId), cancel);
                types = [.. metadata.Select(i => i >= 0 ? kinds[relation.Columns[i].DataTypeId] : ColumnType.Text)];
            }

            return new RelationShape(
                TableKind.Contacts,
                columns.IndexOf(settings.CampaignColumn),
                columns.IndexOf(settings.PhoneColumn),
                mapping.HasIdColumn ? columns.IndexOf(settings.IdColumn) : -1,
                metadata,
                types,
                []);
        }

        if (table == mapping.Campaigns)
        {
            int[] fields = [.. SourceMapping.CampaignColumns.Select(c => columns.IndexOf(c))];
            return new RelationShape(TableKind.Campaigns, fields[0], -1, -1, [], [], fields[1..]);
        }

        return RelationShape.Other;
    }

    static async Task<Value[]> Values(ReplicationTuple tuple, CancellationToken cancel)
    {
        var values = new Value[tuple.NumColumns];
        var i = 0;
        await foreach (var value in tuple.WithCancellation(cancel))
        {
            values[i++] = value.IsDBNull ? new Value(null, false)
                : value.IsUnchangedToastedValue ? new Value(null, true)
                : new Value(await value.Get<string>(cancel), false);
        }

        return values;
    }

    async Task Publish(LogicalReplicationConnection replication, ChannelReader<FoldedChanges> input, CancellationToken cancel)
    {
        var publisher = new ChangePublisher(sink, settings.BatchSize, settings.MaxInFlight, settings.ConfirmTimeout, settings.MaxBatchBytes);
        ulong reported = 0;
        long published = 0;
        var bufferedSince = 0L;
        while (!cancel.IsCancellationRequested)
        {
            // a partly filled batch waits at most FlushDelay from its first change, busy or quiet
            if (publisher.Buffered > 0 && Environment.TickCount64 - bufferedSince >= (long)settings.FlushDelay.TotalMilliseconds)
            {
                await publisher.Flush(cancel);
            }

            if (input.TryRead(out var next))
            {
                var wasEmpty = publisher.Buffered == 0;
                await publisher.Add(next, cancel);
                if (wasEmpty && publisher.Buffered > 0)
                {
                    bufferedSince = Environment.TickCount64;
                }
            }
            else
            {
                var wait = publisher.Buffered > 0
                    ? TimeSpan.FromMilliseconds(Math.Max(1, (long)settings.FlushDelay.TotalMilliseconds - (Environment.TickCount64 - bufferedSince)))
                    : publisher.InFlight > 0 ? TimeSpan.FromMilliseconds(5) : TimeSpan.FromMilliseconds(200);
                using var pause = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                pause.CancelAfter(wait);
                try
                {
                    await input.WaitToReadAsync(pause.Token);
                }
                catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                {
                }
            }

            var confirmed = publisher.ConfirmedLsn;
            if (confirmed > reported)
            {
                replication.SetReplicationStatus(new NpgsqlLogSequenceNumber(confirmed));
                reported = confirmed;
                monitor.Lag.Confirmed(confirmed);
            }

            if (publisher.PublishedChanges > published)
            {
                metrics.PublishedChanges.Add(publisher.PublishedChanges - published);
                published = publisher.PublishedChanges;
            }
        }

        cancel.ThrowIfCancellationRequested();
    }

    async Task Heartbeat(CancellationToken cancel)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Max(settings.HeartbeatInterval.Ticks / 2, TimeSpan.TicksPerSecond / 2)));
        while (await timer.WaitForNextTickAsync(cancel))
        {
            if (DateTime.UtcNow.Ticks - Interlocked.Read(ref lastActivityTicks) < settings.HeartbeatInterval.Ticks)
            {
                continue;
            }

            try
            {
                await using var connection = await source.OpenConnectionAsync(cancel);
                await connection.ExecuteScalarAsync(new CommandDefinition(EmitHeartbeat, new { prefix = HeartbeatPrefix }, cancellationToken: cancel));
                Interlocked.Exchange(ref lastActivityTicks, DateTime.UtcNow.Ticks);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // without heartbeats the slot still advances with every captured change; only idle WAL piles up
                LogHeartbeatFailed(e.Message);
            }
        }
    }

    void Reject(IReadOnlyList<MappedContact> rows)
    {
        foreach (var row in rows)
        {
            metrics.RejectedRows.Add(1, new KeyValuePair<string, object?>("table", "contacts"));
            LogRejected(mapping.Contacts.ToString(), row.RowId ?? "?", row.CampaignId, row.RejectedBecause ?? "");
        }
    }

    void RejectCampaigns(IReadOnlyList<MappedCampaign> campaigns)
    {
        foreach (var campaign in campaigns)
        {
            metrics.RejectedRows.Add(1, new KeyValuePair<string, object?>("table", "campaigns"));
            LogRejected(mapping.Campaigns.ToString(), campaign.Id.ToString(), campaign.Id, campaign.RejectedBecause ?? "");
        }
    }

    void WarnNotFull(RelationMessage relation)
    {
        if (relation.RelationName == mapping.Contacts.Name)
        {
            LogNotFull(mapping.Contacts.ToString());
        }
    }

    [GeneratedRegex("^[0-9A-Fa-f-]+$")]
    private static partial Regex SnapshotNamePattern();

    [LoggerMessage(Level = LogLevel.Trace, Message = "Replication message {Type} at {WalEnd}")]
    partial void LogMessage(string type, string walEnd);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created publication {Publication} on the source")]
    partial void LogPublicationCreated(string publication);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created replication slot {Slot} at {Lsn}")]
    partial void LogSlotCreated(string slot, string lsn);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming replication slot {Slot} from {Lsn}: wal_status {WalStatus}, {LagBytes} bytes of WAL behind")]
    partial void LogResuming(string slot, string lsn, string walStatus, long lagBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replication slot {Slot} was {What}: re-creating it and taking a new snapshot (Source:RecreateSlot); rows deleted at the source meanwhile stay locally until campaign-events reconcile --all --repair")]
    partial void LogRecreating(string slot, string what);

    [LoggerMessage(Level = LogLevel.Information, Message = "Initial snapshot for slot {Slot} at consistent point {Lsn} starting")]
    partial void LogSnapshotStarting(string slot, string lsn);

    [LoggerMessage(Level = LogLevel.Information, Message = "Initial snapshot for slot {Slot} completed: {Campaigns} campaigns, {Rows} contact rows, {Messages} messages in {Seconds:0.0} s")]
    partial void LogSnapshotCompleted(string slot, int campaigns, long rows, long messages, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Source row rejected, not published: table {Table} row {RowId} campaign {CampaignId}: {Reason}")]
    partial void LogRejected(string table, string rowId, Guid campaignId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat on the source failed ({Reason}); the slot advances only with captured changes")]
    partial void LogHeartbeatFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TRUNCATE of a captured table is not streamed; run reconciliation with repair")]
    partial void LogTruncate();

    [LoggerMessage(Level = LogLevel.Error, Message = "Table {Table} is not REPLICA IDENTITY FULL: a delete or key change cannot be captured; run ALTER TABLE ... REPLICA IDENTITY FULL")]
    partial void LogNotFull(string table);

    enum TableKind
    {
        Other,
        Campaigns,
        Contacts,
    }

    sealed record RelationShape(TableKind Kind, int Campaign, int Phone, int Id, int[] Metadata, ColumnType[] MetadataTypes, int[] CampaignFields)
    {
        public static readonly RelationShape Other = new(TableKind.Other, -1, -1, -1, [], [], []);
    }

    readonly record struct Value(string? Text, bool Unchanged);
}
