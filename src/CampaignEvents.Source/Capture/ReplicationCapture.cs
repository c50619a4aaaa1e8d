using System.Threading.Channels;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Source.Capture.Decoding;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Continuity;
using CampaignEvents.Source.Mapping;
using CampaignEvents.Source.Publishing;
using CampaignEvents.Source.SlotHealth;
using CampaignEvents.Source.State;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;

namespace CampaignEvents.Source.Capture;

/// <summary>
/// Logical replication capture (docs/adr/0004): a permanent pgoutput slot (<see cref="ReplicationSetup"/>);
/// an initial snapshot read inside the exported snapshot of a temporary slot whenever the local
/// state does not record a completed one (<see cref="ReplicationSnapshot"/>); then the stream of the
/// permanent slot, decoded (<see cref="PgOutputReader"/>, <see cref="PgOutputDecoder"/>) and
/// published with a confirm window (<see cref="ConfirmedPublishLoop"/>), with heartbeats while the
/// source is idle (<see cref="SourceHeartbeat"/>). The slot's confirmed position only moves below
/// what the broker confirmed, so a kill anywhere re-sends.
/// </summary>
internal sealed class ReplicationCapture(
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
    readonly SourceOptions settings = options.Value;
    readonly RejectedRows rejections = new(mapping, metrics, logger);
    readonly ReplicationSetup setup = new(options.Value, source, state, mapping, logger);

    /// <summary>Kept across sessions: a restart does not make the source look idle.</summary>
    readonly SourceHeartbeat heartbeat = new(options.Value, source, logger);

    /// <summary>The key of a slot's snapshot state in source_adapter_state.</summary>
    internal static string StateKey(string database, string slot) => $"replication:{database}:{slot}";

    /// <summary>One capture session: returns only when cancelled; throws on any failure (the caller restarts from the slot).</summary>
    public async Task Run(CancellationToken cancel)
    {
        var connectionString = DatabaseSettings.Require(configuration, DatabaseSettings.Source);
        var key = StateKey(connectionString.Database ?? "", settings.SlotName);
        await domain.Check(CaptureMode.Replication, cancel);
        await setup.EnsurePublication(cancel);

        await using var replication = new LogicalReplicationConnection(SourceSession.ForReplication(connectionString.ConnectionString))
        {
            WalReceiverStatusInterval = TimeSpan.FromSeconds(1),
        };
        await replication.Open(cancel);

        if (!await setup.EnsureSlot(replication, connectionString.Database ?? "", key, cancel))
        {
            // a new slot starts after whatever an older one (if any) had seen: only a snapshot closes the gap
            await state.ForgetSnapshotOf(key, cancel);
        }

        if (await state.CompletedSnapshot(key, cancel) is null)
        {
            await new ReplicationSnapshot(settings, source, state, mapping, sink, metrics, rejections, logger).Take(connectionString, key, cancel);
        }

        await Stream(replication, cancel);
    }

    /// <summary>Reads, publishes and beats until one of the three ends; the first to end says why.</summary>
    async Task Stream(LogicalReplicationConnection replication, CancellationToken cancel)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var channel = Channel.CreateBounded<FoldedChanges>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = false });
        var slot = new PgOutputReplicationSlot(settings.SlotName);
        var replicationOptions = new PgOutputReplicationOptions(settings.PublicationName, PgOutputProtocolVersion.V1, binary: false, streamingMode: null, messages: true, twoPhase: null);
        var reader = new PgOutputReader(new PgOutputDecoder(mapping, ResolveColumnTypes, logger), monitor, heartbeat, rejections, logger);

        var reading = reader.Run(replication, slot, replicationOptions, channel.Writer, session.Token);
        var publishing = new ConfirmedPublishLoop(settings, sink, monitor, metrics).Run(replication, channel.Reader, session.Token);
        var beating = heartbeat.Run(session.Token);
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

    async Task<IReadOnlyDictionary<uint, ColumnType>> ResolveColumnTypes(IReadOnlyCollection<uint> typeIds, CancellationToken cancel)
    {
        await using var connection = await source.OpenConnectionAsync(cancel);
        return await ColumnType.Resolve(connection, typeIds, cancel);
    }
}
