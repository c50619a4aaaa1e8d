using PhoneNumbers;

namespace CampaignEvents.Infrastructure.Phones;

/// <summary>
/// Phone numbers through libphonenumber: <see cref="Normalize"/> turns what a source holds into
/// E.164; <see cref="IsE164"/> checks what an event claims to carry.
/// </summary>
public sealed class PhoneNormalizer(string defaultRegion = "US")
{
    static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    public string DefaultRegion { get; } = defaultRegion;

    /// <summary>The number in E.164, or null with the reason when it is not a valid phone number.</summary>
    public string? Normalize(string? raw, out string? reason)
    {
        reason = null;
        if (string.IsNullOrWhiteSpace(raw))
        {
            reason = "phone number is empty";
            return null;
        }

        PhoneNumber parsed;
        try
        {
            parsed = Util.Parse(raw, DefaultRegion);
        }
        catch (NumberParseException e)
        {
            reason = $"phone number '{raw}' cannot be parsed ({e.ErrorType})";
            return null;
        }

        if (!Util.IsValidNumber(parsed))
        {
            reason = $"phone number '{raw}' is not a valid number";
            return null;
        }

        return Util.Format(parsed, PhoneNumberFormat.E164);
    }

    /// <summary>True when the text is already a valid number written in E.164 (+ and digits only).</summary>
    public static bool IsE164(string? text, out string? reason)
    {
        reason = null;
        if (string.IsNullOrEmpty(text) || text[0] != '+')
        {
            reason = $"phone number '{text}' is not in E.164 (it must start with +)";
            return false;
        }

        try
        {
            var parsed = Util.Parse(text, null);
            if (!Util.IsValidNumber(parsed))
            {
                reason = $"phone number '{text}' is not a valid number";
                return false;
            }

            if (Util.Format(parsed, PhoneNumberFormat.E164) != text)
            {
                reason = $"phone number '{text}' is not in E.164 (expected {Util.Format(parsed, PhoneNumberFormat.E164)})";
                return false;
            }

            return true;
        }
        catch (NumberParseException e)
        {
            reason = $"phone number '{text}' cannot be parsed ({e.ErrorType})";
            return false;
        }
    }
}
