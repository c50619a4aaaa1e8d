using System.Diagnostics;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Digests;
using CampaignEvents.Reconciliation.LocalSide;
using MassTransit;
using Microsoft.Extensions.Logging;
using static CampaignEvents.Reconciliation.Reconciling.SourceSideRequests;

namespace CampaignEvents.Reconciliation.Reconciling;

/// <summary>
/// Finds the keys that may differ (docs/adr/0007): compares the bucket digests of both sides, then
/// the sub-bucket digests of the differing buckets, then the row hashes of the keys in the differing
/// sub-buckets, so a clean campaign is confirmed by moving a few kilobytes.
/// </summary>
internal sealed partial class BucketDrillDown(
    LocalContacts local,
    IRequestClient<DigestSourceContacts> digests,
    IRequestClient<ListSourceKeys> keys,
    // the reconciler's log category, as before it was split in parts: operators filter by it
    ILogger<Reconciler> logger)
{
    // sub-buckets per key request: bounds each answer when much differs
    const int SubBucketsPerRequest = 4096;

    /// <returns>
    /// The comparison's counts, and the differing keys to watch: normalized phone number, with the
    /// source's raw text of it where the source holds the row.
    /// </returns>
    public async Task<(Comparison Comparison, IReadOnlyDictionary<string, string?> Candidates)> Differing(Guid campaignId, TimeSpan timeout, CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        var sourceTask = Ask<DigestSourceContacts, SourceContactsDigested>(
            digests, new DigestSourceContacts { CampaignId = campaignId, Level = DigestLevel.Buckets }, timeout, r => r.Error, cancel);
        var localBuckets = await local.Buckets(campaignId, cancel);
        var source = await sourceTask;
        var sourceBuckets = ToDigests(source);
        if (!source.CampaignExists && localBuckets.Count == 0 && !await local.Exists(campaignId, cancel))
        {
            throw new ReconciliationException($"campaign {campaignId} is unknown: neither the local database nor the source holds it");
        }

        var rejected = source.Rejected.ToList();
        var comparison = new Comparison
        {
            SourceLsn = source.Lsn,
            SourceContacts = sourceBuckets.Values.Sum(b => b.Count),
            LocalContacts = localBuckets.Values.Sum(b => b.Count),
            BucketsCompared = sourceBuckets.Keys.Union(localBuckets.Keys).Count(),
            Rejected = rejected,
        };
        var candidates = new Dictionary<string, string?>(StringComparer.Ordinal);
        var differingBuckets = Digest.Differing(sourceBuckets, localBuckets);
        comparison.BucketsDiffering = differingBuckets.Count;
        if (differingBuckets.Count == 0)
        {
            LogAllEqual(campaignId, comparison.BucketsCompared, watch.ElapsedMilliseconds);
            return (comparison, candidates);
        }

        var sourceSubsTask = Ask<DigestSourceContacts, SourceContactsDigested>(
            digests, new DigestSourceContacts { CampaignId = campaignId, Level = DigestLevel.SubBuckets, Buckets = differingBuckets }, timeout, r => r.Error, cancel);
        var localSubs = await local.SubBuckets(campaignId, differingBuckets, cancel);
        var differingSubs = Digest.Differing(ToDigests(await sourceSubsTask), localSubs);

        foreach (var chunk in differingSubs.Chunk(SubBucketsPerRequest))
        {
            var sourceKeysTask = Ask<ListSourceKeys, SourceKeysListed>(
                keys, new ListSourceKeys { CampaignId = campaignId, SubBuckets = chunk }, timeout, r => r.Error, cancel);
            var localKeys = await local.Keys(campaignId, chunk, cancel);
            var sourceKeys = await sourceKeysTask;
            rejected.AddRange(sourceKeys.Rejected);
            var sourceHashes = new Dictionary<string, long>(StringComparer.Ordinal);
            var raw = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < sourceKeys.Phones.Count; i++)
            {
                sourceHashes[sourceKeys.Phones[i]] = sourceKeys.RowHashes[i];
                raw[sourceKeys.Phones[i]] = sourceKeys.RawPhones[i];
            }

            foreach (var difference in Digest.CompareKeys(sourceHashes, localKeys))
            {
                candidates[difference.PhoneNumber] = raw.GetValueOrDefault(difference.PhoneNumber);
            }
        }

        comparison.Rejected = [.. rejected.DistinctBy(r => r.RawPhone)];
        LogDiffering(campaignId, differingBuckets.Count, differingSubs.Count, candidates.Count, watch.ElapsedMilliseconds);
        return (comparison, candidates);
    }

    static Dictionary<int, BucketDigest> ToDigests(SourceContactsDigested answer) =>
        Enumerable.Range(0, answer.Buckets.Count).ToDictionary(i => answer.Buckets[i], i => new BucketDigest(answer.Counts[i], answer.Hashes[i]));

    [LoggerMessage(Level = LogLevel.Debug, Message = "Campaign {CampaignId}: {Buckets} buckets equal in {Elapsed} ms")]
    partial void LogAllEqual(Guid campaignId, int buckets, long elapsed);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Campaign {CampaignId}: {Buckets} buckets and {Subs} sub-buckets differ, {Candidates} keys to watch ({Elapsed} ms)")]
    partial void LogDiffering(Guid campaignId, int buckets, int subs, int candidates, long elapsed);
}
