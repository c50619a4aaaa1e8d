using CampaignEvents.Infrastructure.Digests;
using CampaignEvents.Source.Mapping;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CampaignEvents.UnitTests.Reconciliation;

public sealed class DigestTests
{
    [Fact]
    public void Buckets_differ_when_count_or_hash_differ_or_one_side_lacks_them()
    {
        var source = new Dictionary<int, BucketDigest> { [1] = new(3, 10), [2] = new(1, 5), [3] = new(2, 7), [9] = new(1, 1) };
        var local = new Dictionary<int, BucketDigest> { [1] = new(3, 10), [2] = new(2, 5), [3] = new(2, 8), [4] = new(1, 1) };

        Assert.Equal([2, 3, 4, 9], Digest.Differing(source, local));
    }

    [Fact]
    public void A_sub_bucket_lies_inside_the_bucket_of_its_low_bits()
    {
        Assert.Equal(0x34, Digest.BucketOf(0x1234));
        Assert.Equal(0xFF, Digest.BucketOf(0xFFFF));
    }

    [Fact]
    public void Keys_are_classified_missing_extra_or_different()
    {
        var source = new Dictionary<string, long> { ["+1"] = 1, ["+2"] = 2, ["+3"] = 3 };
        var local = new Dictionary<string, long> { ["+2"] = 2, ["+3"] = 4, ["+4"] = 5 };

        Assert.Equal(
            [new("+1", KeyDifferenceKind.MissingLocally), new("+3", KeyDifferenceKind.Different), new("+4", KeyDifferenceKind.ExtraLocally)],
            Digest.CompareKeys(source, local));
    }

    [Fact]
    public void Property_key_comparison_is_the_symmetric_difference_plus_the_changed_keys()
    {
        var sides =
            from keys in Gen.Choose(0, 40).ListOf()
            from sourceHashes in Gen.Choose(0, 3).ArrayOf(keys.Count)
            from localHashes in Gen.Choose(0, 3).ArrayOf(keys.Count)
            select (keys, sourceHashes, localHashes);

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), Prop.ForAll(sides.ToArbitrary(), input =>
        {
            // hash 0 means "this side does not hold the key"
            var source = new Dictionary<string, long>();
            var local = new Dictionary<string, long>();
            for (var i = 0; i < input.keys.Count; i++)
            {
                var key = $"+{input.keys[i]}";
                if (input.sourceHashes[i] > 0)
                {
                    source[key] = input.sourceHashes[i];
                }

                if (input.localHashes[i] > 0)
                {
                    local[key] = input.localHashes[i];
                }
            }

            var result = Digest.CompareKeys(source, local);
            var missing = source.Keys.Except(local.Keys).ToHashSet();
            var extra = local.Keys.Except(source.Keys).ToHashSet();
            var different = source.Keys.Intersect(local.Keys).Where(k => source[k] != local[k]).ToHashSet();
            return missing.SetEquals(result.Where(r => r.Kind == KeyDifferenceKind.MissingLocally).Select(r => r.PhoneNumber))
                && extra.SetEquals(result.Where(r => r.Kind == KeyDifferenceKind.ExtraLocally).Select(r => r.PhoneNumber))
                && different.SetEquals(result.Where(r => r.Kind == KeyDifferenceKind.Different).Select(r => r.PhoneNumber))
                && result.All(r => Digest.Classify(source.TryGetValue(r.PhoneNumber, out var s) ? s : null, local.TryGetValue(r.PhoneNumber, out var l) ? l : null) == r.Kind);
        }));
    }

    [Fact]
    public void Xor_digests_do_not_depend_on_row_order()
    {
        long[] hashes = [11, -3, 42, long.MinValue, 7];
        var forward = hashes.Aggregate(default(BucketDigest), (d, h) => d.Add(new BucketDigest(1, h)));
        var backward = hashes.Reverse().Aggregate(default(BucketDigest), (d, h) => d.Add(new BucketDigest(1, h)));

        Assert.Equal(forward, backward);
        Assert.Equal(5, forward.Count);
    }

    [Theory]
    [InlineData("public.contacts", "\"public\".\"contacts\"")]
    [InlineData("contacts", "\"public\".\"contacts\"")]
    [InlineData("crm.we\"ird", "\"crm\".\"we\"\"ird\"")]
    public void Configured_names_are_quoted_as_identifiers(string name, string quoted) =>
        Assert.Equal(quoted, TableName.Parse(name).Sql);
}
