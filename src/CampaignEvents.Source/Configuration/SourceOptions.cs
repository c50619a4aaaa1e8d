using System.ComponentModel.DataAnnotations;
using CampaignEvents.Source.Publishing;

namespace CampaignEvents.Source.Configuration;

/// <summary>How the source adapter captures changes.</summary>
public enum CaptureMode
{
    /// <summary>Logical replication (pgoutput): initial snapshot, then a stream of changes. The default.</summary>
    Replication,

    /// <summary>Keyset polling on a monotonically increasing column, for sources without logical replication.</summary>
    Polling,
}

/// <summary>
/// The external database's shape and the capture settings, section <c>Source</c>
/// (environment: <c>Source__ContactsTable</c> and so on). The defaults describe a source shaped
/// like the local database: tables <c>campaigns</c> and <c>contacts</c>.
/// Shared by the source adapter and the source side of reconciliation, so both read the same rows
/// the same way.
/// </summary>
public sealed class SourceOptions
{
    public const string Section = "Source";

    public CaptureMode Mode { get; set; } = CaptureMode.Replication;

    [Required(AllowEmptyStrings = false)]
    public string CampaignsTable { get; set; } = "public.campaigns";

    [Required(AllowEmptyStrings = false)]
    public string ContactsTable { get; set; } = "public.contacts";

    /// <summary>Column of <see cref="ContactsTable"/> holding the campaign id (uuid).</summary>
    [Required(AllowEmptyStrings = false)]
    public string CampaignColumn { get; set; } = "campaign_id";

    /// <summary>Column of <see cref="ContactsTable"/> holding the phone number, in any format libphonenumber parses.</summary>
    [Required(AllowEmptyStrings = false)]
    public string PhoneColumn { get; set; } = "phone_number";

    /// <summary>Column holding the metadata as a JSON object; empty to build metadata from <see cref="MetadataColumns"/>.</summary>
    public string MetadataColumn { get; set; } = "metadata";

    /// <summary>When set (and <see cref="MetadataColumn"/> is empty), these columns are folded into a metadata object, by column name.</summary>
    public string[] MetadataColumns { get; set; } = [];

    /// <summary>Region used to read phone numbers written without a country code (ISO 3166 code, e.g. US).</summary>
    [Required(AllowEmptyStrings = false)]
    public string DefaultRegion { get; set; } = "US";

    /// <summary>Logical replication slot of the adapter on the source.</summary>
    [Required(AllowEmptyStrings = false)]
    [RegularExpression("^[a-z0-9_]{1,48}$", ErrorMessage = "Source:SlotName must be 1-48 lowercase letters, digits or underscores (a PostgreSQL slot name)")]
    public string SlotName { get; set; } = "campaign_events";

    /// <summary>Publication the slot streams (created by the adapter for the two tables).</summary>
    [Required(AllowEmptyStrings = false)]
    [RegularExpression("^[A-Za-z0-9_]{1,63}$", ErrorMessage = "Source:PublicationName must be letters, digits or underscores")]
    public string PublicationName { get; set; } = "campaign_events";

    /// <summary>Changes per published <c>ContactChangeBatch</c> message.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 2_000;

    /// <summary>
    /// A published <c>ContactChangeBatch</c> is also cut at this many bytes of estimated JSON (phone,
    /// metadata and fixed fields of each change), far below RabbitMQ's maximum message size
    /// (128 MiB by default in 3.10), so a batch of large metadata is never refused by the broker.
    /// The default keeps a snapshot message under .NET's large-object threshold (85,000 bytes), so
    /// the adapter and the consumer free its body young instead of piling it up in the large-object
    /// heap until a full collection (docs/adr/0020). A single change larger than this goes alone.
    /// </summary>
    [Range(16 * 1024, 100 * 1024 * 1024)]
    public long MaxBatchBytes { get; set; } = ChangePublisher.DefaultMaxBatchBytes;

    /// <summary>
    /// Largest metadata object published, in UTF-8 bytes of its JSON as the bus writes it; a larger
    /// one rejects its row at the source (logged, counted, listed by reconciliation). Must not exceed
    /// the consumers' Sync:MaxMetadataBytes (same default), or the consumer refuses the batch that
    /// carries it on every replay.
    /// </summary>
    [Range(2, 1_000_000)]
    public int MaxMetadataBytes { get; set; } = 65_536;

    /// <summary>
    /// Deepest nesting of a contact's metadata or a campaign's config published; a deeper one rejects
    /// its row. The consumers read a whole message with System.Text.Json's limit of 64 levels, of
    /// which a batch takes 3 above the metadata.
    /// </summary>
    [Range(1, 60)]
    public int MaxJsonDepth { get; set; } = 32;

    /// <summary>Polling mode: the monotonically increasing column (updated_at or a version) of both tables.</summary>
    public string PollingColumn { get; set; } = "updated_at";

    /// <summary>Polling mode: pause between polls when nothing changed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Column of both tables that identifies a source row (its primary key): named in the log when a
    /// row is rejected and the tiebreak of polling. Empty: rejected rows are named by campaign and
    /// raw phone; polling mode needs it.
    /// </summary>
    public string IdColumn { get; set; } = "id";

    /// <summary>
    /// A standby adapter (another one captures this slot) asks this often whether the active one is
    /// gone; the longest it takes to take over after the active adapter dies.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan StandbyPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Rows per page: a cursor fetch of the initial snapshot, or a polling round.</summary>
    [Range(1, 1_000_000)]
    public int SnapshotPageSize { get; set; } = 10_000;

    /// <summary>Publishes awaiting their broker confirm at most; the slot advances only below the oldest one.</summary>
    [Range(1, 10_000)]
    public int MaxInFlight { get; set; } = 200;

    /// <summary>
    /// A publish the broker has not confirmed within this time ends the capture session, which
    /// restarts from the last confirmed position (the changes are sent again; the consumer is idempotent).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ConfirmTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a partly filled batch may wait for more changes when the stream is quiet (docs/adr/0019).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan FlushDelay { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// Replication mode: when the captured tables were idle this long, the adapter writes a logical
    /// decoding message on the source so the slot's confirmed position follows the WAL (no pile-up).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Replication mode: re-create a replication slot that was dropped or invalidated
    /// (<c>wal_status = lost</c>) and take a new snapshot. Without it the adapter refuses to start
    /// on such a slot: the changes made while the slot was gone are lost to it, and a new snapshot
    /// cannot see the rows deleted meanwhile (run <c>campaign-events reconcile --all --repair</c>
    /// afterwards). It never touches a healthy slot, so leaving it on is harmless.
    /// </summary>
    public bool RecreateSlot { get; set; }

    /// <summary>Replication mode: readiness (<c>/readyz</c>) fails when the slot holds more WAL than this many bytes.</summary>
    [Range(1L, long.MaxValue, ErrorMessage = "Source:MaxReadyLagBytes must be a positive number of bytes")]
    public long MaxReadyLagBytes { get; set; } = 1L << 30;

    /// <summary>
    /// Replication mode: readiness fails when the oldest change read from the slot but not yet
    /// confirmed by the broker committed longer ago than this.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00", ErrorMessage = "Source:MaxReadyLag must be between 00:00:01 and 7.00:00:00")]
    public TimeSpan MaxReadyLag { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Replication mode: how often the adapter reads its slot's state (wal_status, lag) on the source
    /// for readiness, metrics and logs; a scrape or <c>/readyz</c> never queries it more often.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00", ErrorMessage = "Source:SlotStatusInterval must be between 00:00:01 and 00:05:00")]
    public TimeSpan SlotStatusInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Polling mode with a timestamp column: rows newer than now() minus this lag are left for the
    /// next round, so a transaction that commits a little after it stamped its rows is not skipped.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan PollingLag { get; set; } = TimeSpan.FromSeconds(2);
}
