using CampaignEvents.Infrastructure.Observability;
using Xunit;

namespace CampaignEvents.UnitTests.Observability;

/// <summary>The masked form of a phone number in logs (docs/adr/0016): the first two and last two digits stay.</summary>
public sealed class PhoneMaskTests
{
    [Theory]
    [InlineData("contact +447911123456 applied", "contact +44********56 applied")]
    [InlineData("+12015550123", "+12*******23")]
    [InlineData("phone number '07911 123456' is not in E.164 (it must start with +)", "phone number '07*** ****56' is not in E.164 (it must start with +)")]
    [InlineData("phone number '555-12' is not a valid number", "phone number '***-**' is not a valid number")]
    [InlineData("""{"campaignId":"x","phoneNumber":"+1 (201) 555-0123","version":2}""", """{"campaignId":"x","phoneNumber":"+1 (2**) ***-**23","version":2}""")]
    [InlineData("""{"phone_number": "0201 5550123"}""", """{"phone_number": "02** *****23"}""")]
    public void Masks_phone_numbers_wherever_a_log_line_holds_them(string line, string masked) =>
        Assert.Equal(masked, PhoneMask.Mask(line));

    [Theory]
    [InlineData("campaign 3f2a1234-5678-4abc-9def-123456789012 version 1234567890123 applied")]
    [InlineData("2026-12-02T10:15:30.123+00:00 lag 1184 bytes, 100,000 rows")]
    [InlineData("replication slot campaign_events streaming, wal_status reserved")]
    public void Leaves_identifiers_versions_and_times_alone(string line) =>
        Assert.Equal(line, PhoneMask.Mask(line));
}
