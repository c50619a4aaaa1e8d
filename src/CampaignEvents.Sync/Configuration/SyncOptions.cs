using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace CampaignEvents.Sync.Configuration;

/// <summary>Settings of the sync consumers, section <c>Sync</c> (environment: <c>Sync__BatchMessageLimit</c> and so on).</summary>
public sealed class SyncOptions
{
    public const string Section = "Sync";

    /// <summary>Messages collected into one batch (one transaction, one statement).</summary>
    [Range(1, 10_000)]
    public int BatchMessageLimit { get; set; } = 100;

    /// <summary>
    /// How long a batch waits to fill before it is written anyway: part of every change's latency
    /// when the flow is light; a busy flow fills batches by count first (docs/adr/0019).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan BatchTimeLimit { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Batches written at once by one process (each on its own connection).</summary>
    [Range(1, 64)]
    public int ConcurrentBatches { get; set; } = 2;

    /// <summary>Messages RabbitMQ hands to one process before it acknowledges; at least BatchMessageLimit × ConcurrentBatches to fill batches.</summary>
    [Range(1, 65_535)]
    public int PrefetchCount { get; set; } = 400;

    /// <summary>
    /// Message bytes one process reads and holds at a time, from validation until their batch is
    /// applied (prefetch counts messages, whatever their size). Parsed, they take about four times
    /// their bytes. Small messages never reach it (400 single changes are about 150 KB). 8 MiB keeps
    /// the source and sync roles of one process under 300 MB through an initial sync at no
    /// measured cost in speed (docs/adr/0020).
    /// </summary>
    [Range(64 * 1024, 4L * 1024 * 1024 * 1024)]
    public long MaxBytesInFlight { get; set; } = 8 * 1024 * 1024;

    /// <summary>Largest accepted metadata object, in UTF-8 bytes of its JSON.</summary>
    [Range(2, 16 * 1024 * 1024)]
    public int MaxMetadataBytes { get; set; } = 65_536;

    /// <summary>
    /// Retries of a database write or look-up that failed for a transient reason (database
    /// unreachable, deadlock, serialization failure) before the circuit breaker opens: the consumer
    /// then holds its messages and takes no more until the database answers (never the error queue).
    /// </summary>
    [Range(0, 10_000)]
    public int TransientRetryLimit { get; set; } = 10;

    /// <summary>Back-off of those retries: from this interval...</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan TransientRetryMinInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>...growing to this one.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan TransientRetryMaxInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the open circuit breaker asks the local database whether it answers again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan BreakerProbeInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a contact whose campaign is not in the local database yet waits, step by step, in
    /// a wait queue of the broker (one per distinct interval, <c>contact-changes-wait-30s</c>)
    /// before it is looked at again; after the last step it goes to the error queue. Not set: 5 s,
    /// 15 s, 30 s, 1 min, 2 min, then 5 min six times (about 34 minutes in all). (A configured list
    /// replaces the default whole, which a default array property would not: the binder merges by index.)
    /// </summary>
    public TimeSpan[] CampaignWaitIntervals { get; set; } = [];

    public IReadOnlyList<TimeSpan> CampaignWaits =>
        CampaignWaitIntervals.Length > 0
            ? CampaignWaitIntervals
            : [TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2),
               TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5)];

    /// <summary>The whole time a contact may wait for its campaign.</summary>
    public TimeSpan CampaignWaitTotal => CampaignWaits.Aggregate(TimeSpan.Zero, (a, b) => a + b);

    /// <summary>
    /// After the in-process retries, hand the message back to RabbitMQ for a later attempt
    /// (<see cref="DelayedRedeliveryIntervals"/>). Needs the broker plugin rabbitmq_delayed_message_exchange,
    /// which Debian's RabbitMQ 3.10 does not ship: off by default.
    /// </summary>
    public bool UseDelayedRedelivery { get; set; }

    /// <summary>Redelivery delays when <see cref="UseDelayedRedelivery"/> is on. Not set: 1, 5 and 15 minutes.</summary>
    public TimeSpan[] DelayedRedeliveryIntervals { get; set; } = [];

    public IReadOnlyList<TimeSpan> DelayedRedeliveries =>
        DelayedRedeliveryIntervals.Length > 0 ? DelayedRedeliveryIntervals : [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15)];

    /// <summary>How long a tombstone is kept after its delete; a change older than its delete arriving later than this could bring the contact back.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan TombstoneRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often expired tombstones are removed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan TombstoneCleanupInterval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>Rules that span several settings; each failure names the settings.</summary>
public sealed class SyncOptionsValidation : IValidateOptions<SyncOptions>
{
    public ValidateOptionsResult Validate(string? name, SyncOptions options)
    {
        var failures = new List<string>();
        if (options.PrefetchCount < options.BatchMessageLimit)
        {
            failures.Add($"Sync:PrefetchCount ({options.PrefetchCount}) must be at least Sync:BatchMessageLimit ({options.BatchMessageLimit}), or no batch ever fills");
        }

        if (options.TransientRetryMaxInterval < options.TransientRetryMinInterval)
        {
            failures.Add("Sync:TransientRetryMaxInterval must not be below Sync:TransientRetryMinInterval");
        }

        if (options.CampaignWaitIntervals.Any(i => i < TimeSpan.FromMilliseconds(10) || i > TimeSpan.FromDays(1)))
        {
            failures.Add("Sync:CampaignWaitIntervals must each lie between 10 ms and 1 day");
        }

        // a change that waited longer than a delete's tombstone is kept could bring the contact back
        if (options.CampaignWaitTotal >= options.TombstoneRetention)
        {
            failures.Add($"Sync:CampaignWaitIntervals add up to {options.CampaignWaitTotal}, which must stay below Sync:TombstoneRetention ({options.TombstoneRetention})");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
