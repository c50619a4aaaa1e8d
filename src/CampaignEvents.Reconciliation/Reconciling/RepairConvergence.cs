using System.Diagnostics;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Digests;
using CampaignEvents.Reconciliation.LocalSide;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static CampaignEvents.Reconciliation.Reconciling.SourceSideRequests;

namespace CampaignEvents.Reconciliation.Reconciling;

/// <summary>
/// A repair: the source side re-publishes the drifted keys through the normal event path, and the
/// repair has converged once every one of them agrees locally, within <c>Reconciliation:RepairTimeout</c>.
/// </summary>
internal sealed partial class RepairConvergence(
    LocalContacts local,
    IRequestClient<RepairSourceContacts> repairs,
    IRequestClient<ListSourceKeys> keys,
    IOptions<ReconciliationOptions> options,
    TimeProvider time,
    // the reconciler's log category, as before it was split in parts: operators filter by it
    ILogger<Reconciler> logger)
{
    /// <summary>Asks the source side to re-publish the drifted keys, then waits until they agree locally.</summary>
    /// <returns>False when some still differ after the repair timeout.</returns>
    public async Task<bool> Repair(Guid campaignId, Comparison found, TimeSpan timeout, CancellationToken cancel)
    {
        var phones = found.Drift.Select(d => d.PhoneNumber).ToArray();
        var answer = await Ask<RepairSourceContacts, SourceContactsRepaired>(
            repairs,
            new RepairSourceContacts { CampaignId = campaignId, Phones = phones, RawPhones = [.. found.RawPhones.Values] },
            timeout,
            r => r.Error,
            cancel);
        LogRepublished(campaignId, answer.Changed, answer.Deleted);

        var repairTimeout = options.Value.RepairTimeout;
        var deadline = Stopwatch.StartNew();
        var pause = TimeSpan.FromMilliseconds(50);
        var raw = phones.Concat(found.RawPhones.Values).Distinct().ToArray();
        while (true)
        {
            var sourceRead = await Ask<ListSourceKeys, SourceKeysListed>(
                keys, new ListSourceKeys { CampaignId = campaignId, Phones = raw }, timeout, r => r.Error, cancel);
            var localRead = await local.ByPhone(campaignId, phones, cancel);
            var sourceHashes = Enumerable.Range(0, sourceRead.Phones.Count).ToDictionary(i => sourceRead.Phones[i], i => sourceRead.RowHashes[i], StringComparer.Ordinal);
            var pending = phones.Count(p => Digest.Classify(
                sourceHashes.TryGetValue(p, out var s) ? s : null,
                localRead.TryGetValue(p, out var l) ? l.RowHash : null) is not null);
            if (pending == 0)
            {
                return true;
            }

            if (deadline.Elapsed >= repairTimeout)
            {
                LogNotConverged(campaignId, pending, repairTimeout);
                return false;
            }

            await Task.Delay(pause, time, cancel);
            pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 500));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Campaign {CampaignId}: repair re-published {Changed} changes and {Deleted} deletes; waiting for them to be applied")]
    partial void LogRepublished(Guid campaignId, int changed, int deleted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Campaign {CampaignId}: {Pending} repaired keys still differ after {Timeout}")]
    partial void LogNotConverged(Guid campaignId, int pending, TimeSpan timeout);
}
