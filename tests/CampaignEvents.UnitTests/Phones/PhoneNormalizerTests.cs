using CampaignEvents.Infrastructure.Phones;
using CampaignEvents.TestSupport.Generators;
using FsCheck.Fluent;
using Xunit;

namespace CampaignEvents.UnitTests.Phones;

public sealed class PhoneNormalizerTests
{
    [Theory]
    [InlineData("(201) 555-0123", "US", "+12015550123")]
    [InlineData("+44 7400 123456", "US", "+447400123456")]
    [InlineData("030 901820", "DE", "+4930901820")]
    public void Normalizes_what_a_source_holds_to_E164(string raw, string region, string expected)
    {
        Assert.Equal(expected, new PhoneNormalizer(region).Normalize(raw, out var reason));
        Assert.Null(reason);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a phone")]
    [InlineData("+1 555")]
    [InlineData("+999 12345678")]
    public void Refuses_what_is_not_a_phone_number_and_says_why(string raw)
    {
        Assert.Null(new PhoneNormalizer().Normalize(raw, out var reason));
        Assert.False(string.IsNullOrEmpty(reason));
    }

    [Theory]
    [InlineData("12015550123")]
    [InlineData("+1 201 555 0123")]
    [InlineData("+4401234")]
    public void An_event_phone_must_already_be_E164(string text)
    {
        Assert.False(PhoneNormalizer.IsE164(text, out var reason));
        Assert.Contains(text, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_generated_test_number_is_valid_E164()
    {
        FsCheck.Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(500),
            FsCheck.Fluent.Prop.ForAll(ContactGenerators.E164.ToArbitrary(), phone => PhoneNormalizer.IsE164(phone, out _)));
    }
}
