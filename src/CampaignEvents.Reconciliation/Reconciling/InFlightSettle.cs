using System.Diagnostics;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Digests;
using CampaignEvents.Reconciliation.LocalSide;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static CampaignEvents.Reconciliation.Reconciling.SourceSideRequests;
using CampaignEvents.Infrastructure.Versions;

namespace CampaignEvents.Reconciliation.Reconciling;

/// <summary>
/// Changes in flight are not drift (docs/adr/0006): the differing keys are read again on both
/// sides (source first, then local) until the settle window has passed, each remaining key
/// showed the same state on both sides twice in a row, and no differing key settled or moved
/// for a whole window (a pipeline working through a backlog keeps the check open, up to ten
/// windows). A key that agrees at any check was in flight; a key still moving at the end is
/// counted, not reported.
/// </summary>
internal sealed partial class InFlightSettle(
    LocalContacts local,
    IRequestClient<ListSourceKeys> keys,
    IOptions<ReconciliationOptions> options,
    TimeProvider time,
    // the reconciler's log category, as before it was split in parts: operators filter by it
    ILogger<Reconciler> logger)
{
    /// <summary>Watches the candidates (normalized phone, the source's raw text) and sets the comparison's drift and in-flight counts.</summary>
    public async Task Settle(Guid campaignId, IReadOnlyDictionary<string, string?> differing, Comparison comparison, TimeSpan timeout, CancellationToken cancel)
    {
        var candidates = differing.ToDictionary(c => c.Key, c => new Watched(c.Key, c.Value), StringComparer.Ordinal);
        var settle = options.Value.Settle;
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
        LogSettled(campaignId, settled, comparison.Drift.Count, comparison.StillChanging, rounds);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Campaign {CampaignId}: {Settled} keys were in flight, {Drift} drifted, {Changing} still changing after {Rounds} checks")]
    partial void LogSettled(Guid campaignId, int settled, int drift, int changing, int rounds);

    sealed class Watched(string phoneNumber, string? raw)
    {
        public string PhoneNumber { get; } = phoneNumber;

        public string? Raw { get; set; } = raw;

        public KeyState? Last { get; set; }

        public bool Stable { get; set; }

        public DriftedContact? Report { get; set; }
    }

    sealed record KeyState(KeyDifferenceKind Kind, long? SourceHash, long? LocalHash, long? LocalVersion, bool LocalAhead);
}
