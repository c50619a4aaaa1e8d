using System.Text;
using System.Text.RegularExpressions;

namespace CampaignEvents.Infrastructure.Observability;

/// <summary>
/// Masks phone numbers in log text (docs/adr/0016): every digit but the first two and the last two
/// becomes <c>*</c>, so <c>+447911123456</c> is logged as <c>+44********56</c> — the country and a
/// hint to tell two numbers apart stay, the person's number does not. It finds E.164 numbers
/// anywhere, and whatever stands in the places our messages put a phone: <c>phone number '…'</c>
/// (the validation reasons, whatever the caller wrote) and JSON <c>"phoneNumber": "…"</c>.
/// </summary>
internal static partial class PhoneMask
{
    /// <summary>The text with every phone number masked; the same instance when there is none.</summary>
    public static string Mask(string text)
    {
        if (!MayHoldPhone(text))
        {
            return text;
        }

        text = Quoted().Replace(text, m => MaskDigits(m.Value));
        text = JsonField().Replace(text, m => MaskDigits(m.Value));
        return E164().Replace(text, m => MaskDigits(m.Value));
    }

    /// <summary>Keeps the first two and the last two digits of a number of seven digits or more; masks every digit of a shorter one.</summary>
    public static string MaskDigits(string value)
    {
        var digits = value.Count(char.IsAsciiDigit);
        var keep = digits >= 7 ? 2 : 0;
        var masked = new StringBuilder(value.Length);
        var seen = 0;
        foreach (var c in value)
        {
            if (char.IsAsciiDigit(c))
            {
                seen++;
                masked.Append(seen <= keep || seen > digits - keep ? c : '*');
            }
            else
            {
                masked.Append(c);
            }
        }

        return masked.ToString();
    }

    // a cheap first look: most log lines name no phone and hold no run of digits as long as one
    static bool MayHoldPhone(string text)
    {
        if (text.Contains("phone", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var run = 0;
        foreach (var c in text)
        {
            run = char.IsAsciiDigit(c) ? run + 1 : 0;
            if (run >= 6)
            {
                return true;
            }
        }

        return false;
    }

    [GeneratedRegex(@"(?<=phone number ')[^']*(?=')", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Quoted();

    [GeneratedRegex(@"(?<=""phone_?number""\s*:\s*"")[^""]*(?="")", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex JsonField();

    [GeneratedRegex(@"\+\d{6,15}(?!\d)", RegexOptions.CultureInvariant)]
    private static partial Regex E164();
}
