using System.CommandLine;
using System.Text;
using System.Text.RegularExpressions;
using CampaignEvents.TestSupport;

namespace CampaignEvents.IntegrationTests.Docs;

/// <summary>
/// What a reader of the repository's Markdown can follow: links that lead somewhere, anchors that
/// name a heading, file paths that exist, and <c>campaign-events</c> command lines that the program
/// accepts. Each check returns one readable problem per fault, so a test can list them all.
/// </summary>
static partial class DocumentationChecks
{
    /// <summary>Paths a command or a run creates; a clone does not hold them.</summary>
    static readonly string[] Created =
    [
        ".stack/",                      // infra/up.sh: the servers' state
        "TestResults/",                 // the test command writes the fault matrix table there
        "src/CampaignEvents.Cli/bin/",  // the build output
        "bin/",                         // infra/demo.sh publishes the program there
        "artifacts/",                   // the published program of the benchmarks (README: Benchmarks)
        "./nupkg",                      // dotnet pack -o ./nupkg (Quick start)
    ];

    /// <summary>Relative links whose file does not exist, and anchors that name no heading of their file.</summary>
    public static IEnumerable<string> BrokenLinks(string file, string text)
    {
        foreach (var (line, target) in Links(text))
        {
            if (SchemeLink().IsMatch(target))
            {
                continue;
            }

            var hash = target.IndexOf('#', StringComparison.Ordinal);
            var path = hash < 0 ? target : target[..hash];
            var anchor = hash < 0 ? null : Uri.UnescapeDataString(target[(hash + 1)..]);
            var resolved = path.Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, Uri.UnescapeDataString(path)));
            if (!resolved.StartsWith(Repository.Root, StringComparison.Ordinal))
            {
                yield return $"{Name(file)}:{line}: link {target} leads outside the repository";
            }
            else if (!File.Exists(resolved) && !Directory.Exists(resolved))
            {
                yield return $"{Name(file)}:{line}: link {target}: {Name(resolved)} does not exist";
            }
            else if (anchor is not null && resolved.EndsWith(".md", StringComparison.Ordinal)
                && !Headings(resolved == file ? text : File.ReadAllText(resolved)).Contains(anchor))
            {
                yield return $"{Name(file)}:{line}: link {target}: {Name(resolved)} has no heading #{anchor}";
            }
        }
    }

    /// <summary>File paths written in code (`infra/demo.sh`, `Sync/ContactSyncTests`) that the repository does not hold.</summary>
    public static IEnumerable<string> MissingPaths(string file, string text)
    {
        foreach (var (line, code) in Code(text))
        {
            foreach (var word in code.Split((char[])[' ', '\t', '(', ')', ',', ';', '"', '\''], StringSplitOptions.RemoveEmptyEntries))
            {
                var path = word.TrimEnd('.', ':');
                if (!LooksLikePath(path) || Created.Any(c => path.StartsWith(c, StringComparison.Ordinal)))
                {
                    continue;
                }

                var candidates = new[]
                {
                    Path.Combine(Repository.Root, path),
                    Path.Combine(Path.GetDirectoryName(file)!, path),
                    // test classes are named from their test project: Sync/ContactSyncTests, UnitTests/Source/…
                    Path.Combine(Repository.Root, "tests/CampaignEvents.IntegrationTests", path + ".cs"),
                    Path.Combine(Repository.Root, "tests", "CampaignEvents." + path + ".cs"),
                    // and classes of the program from their project: Infrastructure/Messaging/BrokerTopology
                    Path.Combine(Repository.Root, "src", "CampaignEvents." + path + ".cs"),
                };
                if (!candidates.Any(c => File.Exists(c) || Directory.Exists(c)))
                {
                    yield return $"{Name(file)}:{line}: {path} does not exist in the repository";
                }
            }
        }
    }

    /// <summary>The programs whose command lines the pages show, by the name they are called with and the project they are built from.</summary>
    public sealed record Program(string Name, string Project, RootCommand Root);

    /// <summary>
    /// Command lines written in code (<c>campaign-events …</c>, <c>campaign-events-bench …</c>, or
    /// <c>dotnet run --project &lt;its project&gt; -- …</c>) whose command, subcommand or option the
    /// program does not have (asked of its System.CommandLine root, as the program parses them).
    /// </summary>
    public static IEnumerable<string> UnknownCommands(string file, string text, params Program[] programs)
    {
        foreach (var (line, code) in Code(text))
        {
            // a Markdown table escapes the | of alternatives (show\|replay); a shell comment is prose
            var words = Comment().Replace(code.Replace(@"\|", "|", StringComparison.Ordinal), "").Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            for (var i = 0; i < words.Length; i++)
            {
                // `docker build -t campaign-events …` names an image, not the command
                var program = i > 0 && words[i - 1].StartsWith('-') ? null : programs.FirstOrDefault(p => p.Name == words[i]);
                if (program is null && words[i] == "--" && Array.IndexOf(words[..i], "--project") is var at and >= 0 && at + 1 < i)
                {
                    program = programs.FirstOrDefault(p => p.Project == words[at + 1].TrimEnd('/'));
                }

                if (program is null)
                {
                    continue;
                }

                foreach (var problem in CheckCommandLine(words[(i + 1)..], program.Root, program.Name))
                {
                    yield return $"{Name(file)}:{line}: {program.Name} {string.Join(' ', words[(i + 1)..])}: {problem}";
                }
            }
        }
    }

    static IEnumerable<string> CheckCommandLine(string[] words, RootCommand root, string program)
    {
        // each alternative (errors show|replay) is a chain of commands from the root
        List<List<Command>> chains = [[root]];
        var next = 0;
        for (; next < words.Length; next++)
        {
            var word = words[next].Trim('[', ']', '(', ')', ',', ';', ':');
            if (word.StartsWith('-') || word.StartsWith('<') || word.Contains('…', StringComparison.Ordinal) || word.Contains("...", StringComparison.Ordinal)
                || chains.All(c => c[^1].Subcommands.Count == 0))
            {
                break;
            }

            var extended = new List<List<Command>>();
            foreach (var name in word.Split('|'))
            {
                foreach (var chain in chains)
                {
                    if (chain[^1].Subcommands.FirstOrDefault(s => s.Name == name || s.Aliases.Contains(name)) is { } sub)
                    {
                        extended.Add([.. chain, sub]);
                    }
                    else
                    {
                        yield return $"{string.Join(' ', chain.Skip(1).Select(c => c.Name).Append("").Prepend(program))}has no command {name}";
                    }
                }
            }

            if (extended.Count == 0)
            {
                yield break;
            }

            chains = extended;
        }

        foreach (var word in words[next..])
        {
            foreach (var piece in word.Split('|'))
            {
                var option = piece.Trim('[', ']', '(', ')', ',', ';', ':', '.').Split('=')[0];
                if (!option.StartsWith("--", StringComparison.Ordinal) || option == "--")
                {
                    continue;
                }

                foreach (var chain in chains.Where(c => !HasOption(c, option)))
                {
                    yield return $"{string.Join(' ', chain.Skip(1).Select(c => c.Name).Prepend(program))} has no option {option}";
                }
            }
        }
    }

    /// <summary>An option of the command itself, or a recursive one of a command above it (--help).</summary>
    static bool HasOption(List<Command> chain, string name) =>
        chain.Select((command, depth) => command.Options.Any(o => (o.Name == name || o.Aliases.Contains(name)) && (depth == chain.Count - 1 || o.Recursive))).Any(found => found);

    /// <summary>Anchors of a file's headings, as GitHub makes them: lower case, punctuation dropped, spaces as hyphens, repeats numbered.</summary>
    public static HashSet<string> Headings(string text)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, line) in Prose(text))
        {
            var heading = Heading().Match(line);
            if (!heading.Success)
            {
                continue;
            }

            var title = LinkText().Replace(heading.Groups[1].Value, "$1");
            var slug = new StringBuilder();
            foreach (var c in title.ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                {
                    slug.Append(c);
                }
                else if (c == ' ')
                {
                    slug.Append('-');
                }
            }

            var anchor = slug.ToString();
            for (var n = 1; !anchors.Add(anchor); n++)
            {
                anchor = $"{slug}-{n}";
            }
        }

        return anchors;
    }

    static bool LooksLikePath(string word) =>
        word.Contains('/', StringComparison.Ordinal)
        && PathWord().IsMatch(word)
        && !word.StartsWith("application/", StringComparison.Ordinal)
        && !word.StartsWith("text/", StringComparison.Ordinal)
        && !word.Contains("NNN", StringComparison.Ordinal);

    /// <summary>Markdown links [text](target) outside code, with their line numbers.</summary>
    static IEnumerable<(int Line, string Target)> Links(string text) =>
        from line in Prose(text)
        from Match link in MarkdownLink().Matches(InlineCode().Replace(line.Text, "code"))
        select (line.Line, link.Groups[1].Value);

    /// <summary>
    /// Code a reader may type: inline code spans outside fences, lines of fenced blocks other than
    /// JSON and SQL, and the first word of each line of a <c>text</c> block (a listing of paths).
    /// </summary>
    static IEnumerable<(int Line, string Code)> Code(string text)
    {
        var lines = text.Split('\n');
        string? fence = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                fence = fence is null ? line.Trim()[3..] : null;
                continue;
            }

            if (fence is null)
            {
                foreach (Match span in InlineCode().Matches(line))
                {
                    yield return (i + 1, span.Groups[1].Value);
                }
            }
            else if (fence == "text")
            {
                // a listing (the README's layout): a path, then words about it
                yield return (i + 1, line.Split(' ', 2)[0]);
            }
            else if (fence is not ("json" or "sql"))
            {
                yield return (i + 1, line);
            }
        }
    }

    /// <summary>Lines outside fenced code blocks.</summary>
    static IEnumerable<(int Line, string Text)> Prose(string text)
    {
        var inFence = false;
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
            }
            else if (!inFence)
            {
                yield return (i + 1, lines[i]);
            }
        }
    }

    static string Name(string path) => Path.GetRelativePath(Repository.Root, path);

    [GeneratedRegex(@"^[a-z][a-z0-9+.-]*:", RegexOptions.IgnoreCase)]
    private static partial Regex SchemeLink();

    [GeneratedRegex(@"\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"\[([^\]]*)\]\([^)]*\)")]
    private static partial Regex LinkText();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"^#{1,6}\s+(.*?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^(?:\./)?[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*/?$")]
    private static partial Regex PathWord();

    [GeneratedRegex(@"(^|\s)#.*$")]
    private static partial Regex Comment();
}
