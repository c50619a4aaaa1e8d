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

    /// <summary>How long a batch waits to fill before it is written anyway.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan BatchTimeLimit { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Batches written at once by one process (each on its own connection).</summary>
    [Range(1, 64)]
    public int ConcurrentBatches { get; set; } = 2;

    /// <summary>Messages RabbitMQ hands to one process before it acknowledges; at least BatchMessageLimit × ConcurrentBatches to fill batches.</summary>
    [Range(1, 65_535)]
    public int PrefetchCount { get; set; } = 400;

    /// <summary>Largest accepted metadata object, in UTF-8 bytes of its JSON.</summary>
    [Range(2, 16 * 1024 * 1024)]
    public int MaxMetadataBytes { get; set; } = 65_536;

    /// <summary>Retries of a batch whose write failed for a transient reason (database unreachable, deadlock, serialization failure).</summary>
    [Range(0, 10_000)]
    public int TransientRetryLimit { get; set; } = 100;

    /// <summary>Back-off of those retries: from this interval...</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan TransientRetryMinInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>...growing to this one.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan TransientRetryMaxInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Pauses before looking again for a campaign that is not there yet; then the message goes to
    /// the error queue. Not set: 1 s, 5 s, 15 s, 30 s. (A configured list replaces the default
    /// whole, which a default array property would not: the binder merges by index.)
    /// </summary>
    public TimeSpan[] UnknownCampaignRetryIntervals { get; set; } = [];

    public IReadOnlyList<TimeSpan> UnknownCampaignRetries =>
        UnknownCampaignRetryIntervals.Length > 0 ? UnknownCampaignRetryIntervals : [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30)];

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

        if (options.UnknownCampaignRetryIntervals.Any(i => i < TimeSpan.Zero || i > TimeSpan.FromHours(1)))
        {
            failures.Add("Sync:UnknownCampaignRetryIntervals must each lie between 0 and 1 hour");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
