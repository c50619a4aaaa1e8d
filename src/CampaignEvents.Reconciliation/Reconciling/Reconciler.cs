using System.Diagnostics;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Digests;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Reconciliation.LocalSide;
using CampaignEvents.Source;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static CampaignEvents.Reconciliation.Reconciling.SourceSideRequests;

namespace CampaignEvents.Reconciliation.Reconciling;

/// <summary>A run that cannot give a report: an unknown campaign, a source side that does not answer. Nothing was changed.</summary>
public sealed class ReconciliationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Reconciles one campaign (docs/adr/0006, 0007): compares bucket digests of both sides, drills
/// the differing buckets down to sub-buckets and then to keys, watches the differing keys until
/// they settle (changes in flight are not drift), optionally repairs through the source side, and
/// stores the report.
/// </summary>
public sealed class Reconciler(
    LocalContacts local,
    IRequestClient<DigestSourceContacts> digests,
    IRequestClient<ListSourceKeys> keys,
    IRequestClient<RepairSourceContacts> repairs,
    ReconciliationRuns runs,
    ReconciliationMetrics metrics,
    IOptions<ReconciliationOptions> options,
    TimeProvider time,
    ILogger<Reconciler> logger)
{
    // sub-buckets per key request: bounds each answer when much differs
    const int SubBucketsPerRequest = 4096;

    ReconciliationOptions Options => options.Value;

    public async Task<CampaignReconciled> Reconcile(Guid campaignId, bool repair, TimeSpan? sourceTimeout, CancellationToken cancel)
    {
        var startedAt = time.GetUtcNow();
        var timeout = sourceTimeout ?? Options.SourceTimeout;
        var first = await Compare(campaignId, timeout, cancel);
        var report = first.ToReport(campaignId, startedAt) with { RepairRequested = repair };

        if (repair && first.Drift.Count > 0)
        {
            var repaired = await Repair(campaignId, first, timeout, cancel);
            var after = await Compare(campaignId, timeout, cancel);
            report = after.ToReport(campaignId, startedAt) with
            {
                RepairRequested = true,
                Repaired = first.Drift,
                Converged = repaired && after.Drift.Count == 0,
                Outcome = after.Drift.Count == 0 ? ReconciliationOutcomes.Repaired : ReconciliationOutcomes.Drift,
                BucketsDiffering = first.BucketsDiffering,
                SettledInFlight = first.SettledInFlight + after.SettledInFlight,
            };
        }

        report = report with { RunId = NewId.NextGuid(), FinishedAt = time.GetUtcNow() };
        await runs.Store(report, cancel);
        metrics.Reconciled(report);
        return report;
    }

    async Task<Comparison> Compare(Guid campaignId, TimeSpan timeout, CancellationToken cancel)
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
        var differingBuckets = Digest.Differing(sourceBuckets, localBuckets);
        comparison.BucketsDiffering = differingBuckets.Count;
        if (differingBuckets.Count == 0)
        {
            logger.LogDebug("Campaign {CampaignId}: {Buckets} buckets equal in {Elapsed} ms", campaignId, comparison.BucketsCompared, watch.ElapsedMilliseconds);
            return comparison;
        }

        var sourceSubsTask = Ask<DigestSourceContacts, SourceContactsDigested>(
            digests, new DigestSourceContacts { CampaignId = campaignId, Level = DigestLevel.SubBuckets, Buckets = differingBuckets }, timeout, r => r.Error, cancel);
        var localSubs = await local.SubBuckets(campaignId, differingBuckets, cancel);
        var differingSubs = Digest.Differing(ToDigests(await sourceSubsTask), localSubs);

        var candidates = new Dictionary<string, Watched>(StringComparer.Ordinal);
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
                candidates[difference.PhoneNumber] = new Watched(difference.PhoneNumber, raw.GetValueOrDefault(difference.PhoneNumber));
            }
        }

        comparison.Rejected = [.. rejected.DistinctBy(r => r.RawPhone)];
        logger.LogDebug(
            "Campaign {CampaignId}: {Buckets} buckets and {Subs} sub-buckets differ, {Candidates} keys to watch ({Elapsed} ms)",
            campaignId, differingBuckets.Count, differingSubs.Count, candidates.Count, watch.ElapsedMilliseconds);
        if (candidates.Count > 0)
        {
            await Settle(campaignId, candidates, comparison, timeout, cancel);
        }

        return comparison;
    }

    /// <summary>
    /// Changes in flight are not drift (docs/adr/0006): the differing keys are read again on both
    /// sides (source first, then local) until the settle window has passed, each remaining key
    /// showed the same state on both sides twice in a row, and no differing key settled or moved
    /// for a whole window (a pipeline working through a backlog keeps the check open, up to ten
    /// windows). A key that agrees at any check was in flight; a key still moving at the end is
    /// counted, not reported.
    /// </summary>
    async Task Settle(Guid campaignId, Dictionary<string, Watched> candidates, Comparison comparison, TimeSpan timeout, CancellationToken cancel)
    {
        var settle = Options.Settle;
        var pause = TimeSpan.FromMilliseconds(Math.Max(settle.TotalMilliseconds / 5, 20));
        var watch = Stopwatch.StartNew();
        var settled = 0;
        var rounds = 0;
        var lastProgress = TimeSpan.Zero;
        while (true)
        {
            if (rounds > 0)
            {
                await Task.Delay(pause, time, cancel);
            }

            rounds++;
            var phones = candidates.Values.SelectMany(c => c.Raw is { } r && r != c.PhoneNumber ? new[] { c.PhoneNumber, r } : [c.PhoneNumber]).ToArray();
            var sourceRead = await Ask<ListSourceKeys, SourceKeysListed>(
                keys, new ListSourceKeys { CampaignId = campaignId, Phones = phones, IncludeMetadata = true }, timeout, r => r.Error, cancel);
            var localRead = await local.ByPhone(campaignId, candidates.Keys, cancel);
            var sourceRows = Enumerable.Range(0, sourceRead.Phones.Count)
                .ToDictionary(i => sourceRead.Phones[i], i => (Hash: sourceRead.RowHashes[i], Raw: sourceRead.RawPhones[i], Metadata: sourceRead.Metadata[i]), StringComparer.Ordinal);
            // in the capture mode's domain (polled versions are microseconds, not WAL positions)
            var readVersion = sourceRead.ReadVersion ?? SourceVersion.ForSnapshot((ulong)sourceRead.Lsn);

            foreach (var candidate in candidates.Values.ToList())
            {
                var s = sourceRows.TryGetValue(candidate.PhoneNumber, out var sr) ? sr : default((long Hash, string Raw, string Metadata)?);
                var l = localRead.GetValueOrDefault(candidate.PhoneNumber);
                var kind = Digest.Classify(s?.Hash, l?.RowHash);
                if (kind is null)
                {
                    candidates.Remove(candidate.PhoneNumber);
                    settled++;
                    lastProgress = watch.Elapsed;
                    continue;
                }

                // a local row newer than this source read means the source moved after the read: in flight
                var state = new KeyState(kind.Value, s?.Hash, l?.RowHash, l?.Version, l is not null && l.Version >= readVersion);
                candidate.Stable = candidate.Last == state && !state.LocalAhead;
                if (candidate.Last is not null && !candidate.Stable)
                {
                    lastProgress = watch.Elapsed;
                }

                candidate.Last = state;
                candidate.Raw = s?.Raw ?? candidate.Raw;
                candidate.Report = new DriftedContact
                {
                    Kind = kind.Value switch
                    {
                        KeyDifferenceKind.MissingLocally => DriftKinds.MissingLocally,
                        KeyDifferenceKind.ExtraLocally => DriftKinds.ExtraLocally,
                        _ => DriftKinds.Different,
                    },
                    PhoneNumber = candidate.PhoneNumber,
                    LocalVersion = l?.Version,
                    SourceVersion = s is null ? null : readVersion,
                    LocalMetadata = l?.Metadata,
                    SourceMetadata = s?.Metadata,
                };
            }

            var quiet = watch.Elapsed >= settle && watch.Elapsed - lastProgress >= settle;
            if (candidates.Count == 0 || (quiet && candidates.Values.All(c => c.Stable)) || watch.Elapsed >= settle * 10)
            {
                break;
            }
        }

        comparison.SettledInFlight = settled;
        comparison.StillChanging = candidates.Values.Count(c => !c.Stable);
        comparison.Drift = [.. candidates.Values.Where(c => c.Stable).Select(c => c.Report!).OrderBy(d => d.Kind, StringComparer.Ordinal).ThenBy(d => d.PhoneNumber, StringComparer.Ordinal)];
        comparison.RawPhones = candidates.Values.Where(c => c.Stable && c.Raw is not null).ToDictionary(c => c.PhoneNumber, c => c.Raw!, StringComparer.Ordinal);
        logger.LogDebug(
            "Campaign {CampaignId}: {Settled} keys were in flight, {Drift} drifted, {Changing} still changing after {Rounds} checks",
            campaignId, settled, comparison.Drift.Count, comparison.StillChanging, rounds);
    }

    /// <summary>Asks the source side to re-publish the drifted keys, then waits until they agree locally.</summary>
    async Task<bool> Repair(Guid campaignId, Comparison found, TimeSpan timeout, CancellationToken cancel)
    {
        var phones = found.Drift.Select(d => d.PhoneNumber).ToArray();
        var answer = await Ask<RepairSourceContacts, SourceContactsRepaired>(
            repairs,
            new RepairSourceContacts { CampaignId = campaignId, Phones = phones, RawPhones = [.. found.RawPhones.Values] },
            timeout,
            r => r.Error,
            cancel);
        logger.LogInformation(
            "Campaign {CampaignId}: repair re-published {Changed} changes and {Deleted} deletes; waiting for them to be applied",
            campaignId, answer.Changed, answer.Deleted);

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

            if (deadline.Elapsed >= Options.RepairTimeout)
            {
                logger.LogWarning("Campaign {CampaignId}: {Pending} repaired keys still differ after {Timeout}", campaignId, pending, Options.RepairTimeout);
                return false;
            }

            await Task.Delay(pause, time, cancel);
            pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 500));
        }
    }

    static Dictionary<int, BucketDigest> ToDigests(SourceContactsDigested answer) =>
        Enumerable.Range(0, answer.Buckets.Count).ToDictionary(i => answer.Buckets[i], i => new BucketDigest(answer.Counts[i], answer.Hashes[i]));

    sealed class Watched(string phoneNumber, string? raw)
    {
        public string PhoneNumber { get; } = phoneNumber;

        public string? Raw { get; set; } = raw;

        public KeyState? Last { get; set; }

        public bool Stable { get; set; }

        public DriftedContact? Report { get; set; }
    }

    sealed record KeyState(KeyDifferenceKind Kind, long? SourceHash, long? LocalHash, long? LocalVersion, bool LocalAhead);

    sealed class Comparison
    {
        public long SourceLsn { get; init; }

        public long SourceContacts { get; init; }

        public long LocalContacts { get; init; }

        public int BucketsCompared { get; init; }

        public int BucketsDiffering { get; set; }

        public int SettledInFlight { get; set; }

        public int StillChanging { get; set; }

        public IReadOnlyList<DriftedContact> Drift { get; set; } = [];

        public IReadOnlyDictionary<string, string> RawPhones { get; set; } = new Dictionary<string, string>();

        public IReadOnlyList<RejectedSourceRow> Rejected { get; set; } = [];

        public CampaignReconciled ToReport(Guid campaignId, DateTimeOffset startedAt) => new()
        {
            RunId = Guid.Empty,
            CampaignId = campaignId,
            Outcome = Drift.Count == 0 ? ReconciliationOutcomes.Consistent : ReconciliationOutcomes.Drift,
            StartedAt = startedAt,
            FinishedAt = startedAt,
            SourceContacts = SourceContacts,
            LocalContacts = LocalContacts,
            BucketsCompared = BucketsCompared,
            BucketsDiffering = BucketsDiffering,
            SettledInFlight = SettledInFlight,
            StillChanging = StillChanging,
            Drift = Drift,
            RejectedAtSource = Rejected,
            SourceLsn = $"{SourceLsn >> 32:X}/{SourceLsn & 0xFFFFFFFF:X}",
        };
    }
}
