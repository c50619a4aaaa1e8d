using System.Globalization;
using System.Text;
using Spectre.Console;

namespace CampaignEvents.Cli.Commands;

/// <summary>
/// What a command prints for people. On a terminal: Spectre.Console markup and tables sized to the
/// window. Piped into a file or a CI log: plain lines, one per table row, columns aligned with
/// spaces, never wrapped and without ANSI escapes (Spectre would draw the table 80 columns wide and
/// wrap every cell over several lines). Scripts read <c>--json</c> instead.
/// </summary>
sealed class CommandOutput
{
    const string Gap = "  ";

    readonly TextWriter writer;
    readonly IAnsiConsole? console;

    public CommandOutput(TextWriter writer, bool terminal)
    {
        this.writer = writer;
        console = terminal ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) }) : null;
    }

    /// <summary>Standard output, rich only when it is a terminal.</summary>
    public static CommandOutput Standard() => new(Console.Out, terminal: !Console.IsOutputRedirected);

    /// <summary>A line of Spectre markup (values escaped with <see cref="Markup.Escape"/>); piped, the text alone on one line.</summary>
    public void Line(string markup)
    {
        if (console is not null)
        {
            console.MarkupLine(markup);
        }
        else
        {
            writer.WriteLine(OneLine(Markup.Remove(markup)));
        }
    }

    /// <summary>A table of plain-text cells: a Spectre table on a terminal, a header line and one aligned line per row when piped.</summary>
    public void Table(IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string>> rows)
    {
        if (console is not null)
        {
            var table = new Table().AddColumns([.. columns.Select(Markup.Escape)]);
            foreach (var row in rows)
            {
                table.AddRow([.. row.Select(Markup.Escape)]);
            }

            console.Write(table);
        }
        else
        {
            writer.Write(Aligned(columns, rows));
        }
    }

    /// <summary>A header and one line per row, each column padded to its widest cell; the last column is not padded.</summary>
    public static string Aligned(IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string>> rows)
    {
        var lines = new List<string[]> { columns.Select(OneLine).ToArray() };
        lines.AddRange(rows.Select(row => row.Select(OneLine).ToArray()));
        var widths = Enumerable.Range(0, columns.Count).Select(i => lines.Max(l => i < l.Length ? l[i].Length : 0)).ToArray();
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            for (var i = 0; i < line.Length; i++)
            {
                text.Append(i == line.Length - 1 ? line[i] : line[i].PadRight(widths[i]) + Gap);
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>
    /// The text on one line: line breaks, tabs and other control characters of the data (a
    /// message body, a raw phone from the source, an ESC that would colour a terminal) written as
    /// escapes (<c>\n</c>, <c>\t</c>, <c>\u001b</c>).
    /// </summary>
    public static string OneLine(string text)
    {
        if (!text.Any(BreaksLine))
        {
            return text;
        }

        var line = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            line.Append(c switch
            {
                '\n' => @"\n",
                '\r' => @"\r",
                '\t' => @"\t",
                _ when BreaksLine(c) => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => c.ToString(),
            });
        }

        return line.ToString();
    }

    // besides the control characters, the Unicode line and paragraph separators end a line in some viewers
    static bool BreaksLine(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';
}
