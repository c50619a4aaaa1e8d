using System.Text.Json;
using System.Text.RegularExpressions;
using CampaignEvents.TestSupport;
using Xunit;

namespace CampaignEvents.IntegrationTests.Cli;

/// <summary>
/// The <c>--json</c> field names documented in docs/json-output.md (a table after
/// <c>&lt;!-- json-fields: command --&gt;</c>), and the field names a command really printed.
/// </summary>
static partial class JsonFields
{
    /// <summary>The documented paths of a command, <c>[]</c> left out (<c>campaigns[].id</c> is <c>campaigns.id</c>).</summary>
    public static SortedSet<string> Documented(string command)
    {
        var lines = File.ReadAllLines(Repository.PathOf("docs/json-output.md"));
        var start = Array.IndexOf(lines, $"<!-- json-fields: {command} -->");
        Assert.True(start >= 0, $"docs/json-output.md has no table for {command}");
        var fields = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(start + 3).TakeWhile(l => l.StartsWith('|')))
        {
            foreach (Match name in Code().Matches(line.Split('|')[1]))
            {
                fields.Add(name.Groups[1].Value.Replace("[]", "", StringComparison.Ordinal));
            }
        }

        return fields;
    }

    /// <summary>
    /// The documented paths a printed document can show: the fields of an array's items only where
    /// that array has items (which processes are connected, say, depends on the moment).
    /// </summary>
    public static SortedSet<string> DocumentedFor(string command, JsonElement json)
    {
        var documented = Documented(command);
        var shown = Of(json);
        documented.RemoveWhere(field =>
        {
            var dot = field.LastIndexOf('.');
            return dot > 0 && !shown.Contains(field) && IsEmptyArray(json, field[..dot]);
        });
        return documented;
    }

    static bool IsEmptyArray(JsonElement json, string path)
    {
        var element = json;
        foreach (var part in path.Split('.'))
        {
            if (element.ValueKind == JsonValueKind.Array)
            {
                if (element.GetArrayLength() == 0)
                {
                    return true;
                }

                element = element[0];
            }

            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(part, out element))
            {
                return false;
            }
        }

        return element.ValueKind == JsonValueKind.Array && element.GetArrayLength() == 0;
    }

    /// <summary>Every property path of a printed document; the items of an array are merged (an array of documents: theirs).</summary>
    public static SortedSet<string> Of(JsonElement json)
    {
        var fields = new SortedSet<string>(StringComparer.Ordinal);
        Collect(json, "", fields);
        return fields;
    }

    static void Collect(JsonElement json, string path, SortedSet<string> fields)
    {
        switch (json.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in json.EnumerateObject())
                {
                    var child = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                    fields.Add(child);
                    Collect(property.Value, child, fields);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in json.EnumerateArray())
                {
                    Collect(item, path, fields);
                }

                break;
        }
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Code();
}
