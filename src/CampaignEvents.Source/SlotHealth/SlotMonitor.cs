using System.Diagnostics.Metrics;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Source.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CampaignEvents.Source.SlotHealth;

/// <summary>
/// Reads the slot's state on the source every Source:SlotStatusInterval (replication mode) and
/// keeps the last reading for <c>/readyz</c> and the lag gauges, so a scrape never queries the
/// source; logs it once a minute and at once when its health changes.
/// </summary>
internal sealed partial class SlotMonitor : BackgroundService
{
    static readonly TimeSpan LogEvery = TimeSpan.FromMinutes(1);

    readonly NpgsqlDataSource source;
    readonly SourceOptions settings;
    readonly TimeProvider clock;
    readonly ILogger<SlotMonitor> logger;
    readonly SemaphoreSlim reading = new(1, 1);
    // replaced whole, never changed: a scrape on another thread reads one consistent reading
    volatile Reading? latest;

    public SlotMonitor(
        [FromKeyedServices(DatabaseSettings.Source)] NpgsqlDataSource source,
        IOptions<SourceOptions> options,
        SourceMetrics metrics,
        ILogger<SlotMonitor> logger,
        TimeProvider? clock = null)
    {
        this.source = source;
        settings = options.Value;
        this.clock = clock ?? TimeProvider.System;
        this.logger = logger;
        Lag = new CommitLag(this.clock);
        metrics.ObserveSlotLag(
            () => latest is { Slot.LagBytes: { } bytes } ? [new Measurement<long>(bytes, Tag)] : [],
            () => latest is { Slot.Exists: true } ? [new Measurement<double>(Lag.Seconds, Tag)] : []);
    }

    /// <summary>Fed by the capture: transactions read and confirmed.</summary>
    public CommitLag Lag { get; }

    KeyValuePair<string, object?> Tag => new("slot", settings.SlotName);

    /// <summary>The last reading when it is younger than Source:SlotStatusInterval; otherwise a new one (one at a time).</summary>
    public async Task<SlotObservation> Current(CancellationToken cancel)
    {
        if (Fresh() is { } fresh)
        {
            return fresh;
        }

        await reading.WaitAsync(cancel);
        try
        {
            return Fresh() ?? await Read(cancel);
        }
        finally
        {
            reading.Release();
        }
    }

    SlotObservation? Fresh() => latest is { } l && clock.GetUtcNow() - l.At < settings.SlotStatusInterval ? l.Slot : null;

    sealed record Reading(SlotObservation Slot, DateTimeOffset At);

    async Task<SlotObservation> Read(CancellationToken cancel)
    {
        await using var connection = await source.OpenConnectionAsync(cancel);
        var slot = await SlotObservation.Read(connection, settings.SlotName, cancel);
        latest = new Reading(slot, clock.GetUtcNow());
        return slot;
    }

    /// <summary>Why the slot is not ready, or null when it is (the thresholds of readiness).</summary>
    public string? Problem(SlotObservation slot)
    {
        if (slot.Lost)
        {
            return SlotContinuity.Refusal(slot);
        }

        if (slot.LagBytes > settings.MaxReadyLagBytes)
        {
            return $"{slot.Describe(Lag.Seconds)}: more than Source:MaxReadyLagBytes ({settings.MaxReadyLagBytes:N0})";
        }

        if (Lag.Seconds > settings.MaxReadyLag.TotalSeconds)
        {
            return $"{slot.Describe(Lag.Seconds)}: more than Source:MaxReadyLag ({settings.MaxReadyLag})";
        }

        return slot.WalStatus == "unreserved"
            ? $"{slot.Describe(Lag.Seconds)}: the WAL it needs is past max_slot_wal_keep_size and will be removed at the next checkpoint unless the adapter catches up"
            : null;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.Mode != CaptureMode.Replication)
        {
            return;
        }

        using var timer = new PeriodicTimer(settings.SlotStatusInterval, clock);
        var logged = DateTimeOffset.MinValue;
        string? lastProblem = null;
        do
        {
            try
            {
                var slot = await Read(stoppingToken);
                var problem = slot.Exists ? Problem(slot) : null;
                if (problem is not null && problem != lastProblem)
                {
                    LogUnhealthy(problem);
                    logged = clock.GetUtcNow();
                }
                else if (slot.Exists && (clock.GetUtcNow() - logged >= LogEvery || (problem is null && lastProblem is not null)))
                {
                    LogSlot(slot.Name, slot.WalStatus ?? "?", slot.LagBytes ?? 0, Lag.Seconds, slot.Active);
                    logged = clock.GetUtcNow();
                }

                lastProblem = problem;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // the capture reports an unreachable source; readiness shows it through its own check
                LogUnreadable(e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override void Dispose()
    {
        reading.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Replication slot {Slot}: wal_status {WalStatus}, {LagBytes} bytes of WAL behind, {LagSeconds:0.0} s behind, streaming {Active}")]
    partial void LogSlot(string slot, string walStatus, long lagBytes, double lagSeconds, bool active);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replication slot not ready: {Problem}")]
    partial void LogUnhealthy(string problem);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replication slot state not read: {Reason}")]
    partial void LogUnreadable(string reason);
}
