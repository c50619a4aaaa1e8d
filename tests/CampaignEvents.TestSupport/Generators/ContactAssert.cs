using System.Text.Json.Nodes;

namespace CampaignEvents.TestSupport.Generators;

public static class ContactAssert
{
    /// <summary>
    /// True when both sides hold the same keys with the same metadata (compared as JSON values:
    /// jsonb keeps neither key order nor whitespace). Throws with the first differences otherwise,
    /// so a failing property says what differs.
    /// </summary>
    public static bool SameContacts(IEnumerable<ContactRow> expected, IEnumerable<ContactRow> actual)
    {
        var want = expected.ToDictionary(c => (c.CampaignId, c.PhoneNumber));
        var have = actual.ToDictionary(c => (c.CampaignId, c.PhoneNumber));
        var missing = want.Keys.Except(have.Keys).ToList();
        var extra = have.Keys.Except(want.Keys).ToList();
        var different = want.Keys.Intersect(have.Keys)
            .Where(k => !JsonNode.DeepEquals(want[k].Metadata, have[k].Metadata))
            .ToList();
        if (missing.Count + extra.Count + different.Count == 0)
        {
            return true;
        }

        throw new Xunit.Sdk.XunitException(
            $"contacts differ: {missing.Count} missing, {extra.Count} extra, {different.Count} different; " +
            $"first missing: {string.Join(", ", missing.Take(3))}; first extra: {string.Join(", ", extra.Take(3))}; " +
            $"first different: {string.Join(", ", different.Take(3).Select(k => $"{k}: want {want[k].Metadata.ToJsonString()} have {have[k].Metadata.ToJsonString()}"))}");
    }
}
