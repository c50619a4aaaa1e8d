using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using PhoneNumbers;

namespace CampaignEvents.TestSupport.Generators;

/// <summary>A contact as the user sees it: the key (campaign, phone) and its metadata.</summary>
public sealed record ContactRow(Guid CampaignId, string PhoneNumber, JsonObject Metadata)
{
    public override string ToString() => $"{CampaignId:N}/{PhoneNumber} {Metadata.ToJsonString()}";
}

/// <summary>FsCheck generators for contacts: valid E.164 numbers, nested unicode metadata.</summary>
public static class ContactGenerators
{
    static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    static readonly string[] Regions = ["US", "GB", "DE", "FR", "BR", "IN", "JP", "AU", "ZA", "MX", "NG", "SE"];

    static readonly PhoneNumber[] Examples =
        [.. Regions.Select(r => Util.GetExampleNumberForType(r, PhoneNumberType.MOBILE)).Where(n => n is not null)];

    /// <summary>Valid mobile numbers in E.164, from several countries, varied in their last digits.</summary>
    public static Gen<string> E164 { get; } =
        from example in Gen.Elements(Examples)
        from tail in Gen.Choose(0, 9999)
        select Vary(example, tail);

    static string Vary(PhoneNumber example, int tail)
    {
        var national = example.NationalNumber.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var varied = national[..^4] + tail.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
        var candidate = new PhoneNumber.Builder().MergeFrom(example).SetNationalNumber(ulong.Parse(varied, System.Globalization.CultureInfo.InvariantCulture)).Build();
        var valid = Util.IsValidNumber(candidate) ? candidate : example;
        return Util.Format(valid, PhoneNumberFormat.E164);
    }

    /// <summary>Text with ASCII, accents, CJK and emoji; never NUL, which jsonb cannot hold.</summary>
    public static Gen<string> UnicodeText { get; } =
        Gen.OneOf(
                Gen.Choose(0x20, 0x7E).Select(c => ((char)c).ToString()),
                Gen.Choose(0xC0, 0x17F).Select(c => ((char)c).ToString()),
                Gen.Choose(0x4E00, 0x4FFF).Select(c => ((char)c).ToString()),
                Gen.Choose(0x1F600, 0x1F64F).Select(char.ConvertFromUtf32),
                Gen.Elements("\"", "\\", "\n", "\t", "'", "\u00e9"))
            .ListOf()
            .Select(parts => string.Concat(parts));

    static Gen<JsonNode?> Value(int size) =>
        size <= 0
            ? Scalar
            : Gen.Frequency(
                (4, Scalar),
                (1, Object(size / 2).Select(o => (JsonNode?)o)),
                (1, Value(size / 2).ListOf().Select(items => (JsonNode?)new JsonArray([.. items]))));

    static Gen<JsonNode?> Scalar { get; } =
        Gen.OneOf(
            UnicodeText.Select(s => (JsonNode?)JsonValue.Create(s)),
            Gen.Choose(int.MinValue, int.MaxValue).Select(i => (JsonNode?)JsonValue.Create(i)),
            Gen.Choose(-100000, 100000).Select(i => (JsonNode?)JsonValue.Create(i / 100m)),
            Gen.Elements(true, false).Select(b => (JsonNode?)JsonValue.Create(b)),
            Gen.Constant<JsonNode?>(null));

    static Gen<JsonObject> Object(int size) =>
        (from key in UnicodeText
         from value in Value(size)
         select (key, value))
        .ListOf()
        .Select(pairs =>
        {
            var o = new JsonObject();
            foreach (var (key, value) in pairs.DistinctBy(p => p.key))
            {
                o[key] = value;
            }

            return o;
        });

    /// <summary>Metadata objects: empty, flat or nested, with unicode keys and values.</summary>
    public static Gen<JsonObject> Metadata { get; } = Gen.Sized(size => Gen.Frequency(
        (1, Gen.Constant(0).Select(_ => new JsonObject())),
        (5, Object(Math.Min(size, 8)))));

    /// <summary>Contacts of the given campaigns, one per (campaign, phone).</summary>
    public static Gen<ContactRow[]> Contacts(IReadOnlyList<Guid> campaigns) =>
        (from campaign in Gen.Elements(campaigns.ToArray())
         from phone in E164
         from metadata in Metadata
         select new ContactRow(campaign, phone, metadata))
        .ListOf()
        .Select(rows => rows.DistinctBy(r => (r.CampaignId, r.PhoneNumber)).ToArray());
}
