using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// Text that .NET reads but PostgreSQL would refuse or change, found before a message joins a
/// batch (docs/adr/0002): bytes that are not UTF-8 (decoding would put U+FFFD in their place), and
/// in jsonb the escape <c>\u0000</c> (a NUL character) and escaped unpaired surrogates
/// (<c>\ud800</c>), which name no character. A backslash escaped as <c>\\</c> and followed by
/// <c>u0000</c> is six ordinary characters: valid JSON, valid jsonb, stored as written.
/// </summary>
static class StorableText
{
    /// <summary>The offset of the first byte that does not belong to valid UTF-8, or -1 (one vectorized pass when valid).</summary>
    public static int InvalidUtf8At(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
        {
            return -1;
        }

        var at = 0;
        while (Rune.DecodeFromUtf8(bytes[at..], out _, out var consumed) == OperationStatus.Done)
        {
            at += consumed;
        }

        return at;
    }

    /// <summary>
    /// What in this JSON text (valid JSON, as written) PostgreSQL jsonb refuses: "a NUL character
    /// (\u0000)", "an unpaired surrogate (\ud800)", or null when it has neither.
    /// </summary>
    public static string? JsonbRefuses(string json)
    {
        // in valid JSON a backslash only starts an escape, and escapes do not overlap (\\ is one escape)
        for (var at = json.IndexOf('\\', StringComparison.Ordinal); at >= 0 && at + 1 < json.Length; at = json.IndexOf('\\', at))
        {
            if (json[at + 1] != 'u' || Unit(json, at) is not { } unit)
            {
                at += 2;
                continue;
            }

            if (unit == '\0')
            {
                return "a NUL character (\\u0000)";
            }

            if (char.IsHighSurrogate(unit) && Unit(json, at + 6) is { } next && char.IsLowSurrogate(next))
            {
                at += 12;
                continue;
            }

            if (char.IsSurrogate(unit))
            {
                return string.Create(CultureInfo.InvariantCulture, $"an unpaired surrogate (\\u{(int)unit:x4})");
            }

            at += 6;
        }

        return null;
    }

    /// <summary>The UTF-16 unit of the escape <c>\uXXXX</c> at <paramref name="at"/>, if one is there.</summary>
    static char? Unit(string json, int at) =>
        at + 6 <= json.Length && json[at] == '\\' && json[at + 1] == 'u'
        && ushort.TryParse(json.AsSpan(at + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var unit)
            ? (char)unit
            : null;
}
