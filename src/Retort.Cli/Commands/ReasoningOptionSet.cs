using System.CommandLine;
using Retort.Engine.Sampling;

namespace Retort.Cli.Commands;

/// <summary>
/// <c>--reasoning-budget</c> and <c>--reasoning-nudge</c>, shared by <c>run</c> (onto <see cref="SamplingOptions"/>)
/// and <c>serve</c> (the server's default for requests that set none). The engine owns the defaults and the checks.
/// </summary>
/// <param name="scope">Said after the budget's description (serve: whose default it is).</param>
internal sealed class ReasoningOptionSet(string scope = "")
{
    private readonly Option<int?> _budget = new("--reasoning-budget")
    {
        Description = "most tokens of thinking: then the engine writes the nudge and </think> and the model answers " +
                      "(0: no thinking; -1 or unset: no limit)" + scope,
        // The parser's own message would name the type System.Nullable`1[System.Int32].
        CustomParser = result =>
        {
            string typed = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (int.TryParse(typed, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int budget))
                return budget;
            result.AddError($"--reasoning-budget must be a whole number of tokens (0: no thinking, -1: no limit), found '{typed}'");
            return null;
        },
    };
    private readonly Option<string?> _nudge = new("--reasoning-nudge")
    {
        Description = "text written before </think> when the budget ends the thinking (\\n is a line break; \"\" for none; default: " +
                      $"\"{Escape(SamplingOptions.DefaultReasoningNudge)}\")",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_budget);
        command.Options.Add(_nudge);
    }

    public int? Budget(ParseResult r) => r.GetValue(_budget);

    /// <summary>The nudge as typed, with \n (and \\ for a backslash) made into what they stand for; null when not given.</summary>
    public string? Nudge(ParseResult r) => r.GetValue(_nudge) is { } typed ? Unescape(typed) : null;

    /// <summary>The message names for the settings this set binds.</summary>
    public static string? FlagOf(string setting) => setting switch
    {
        nameof(SamplingOptions.ReasoningBudget) => "--reasoning-budget",
        nameof(SamplingOptions.ReasoningNudge) => "--reasoning-nudge",
        _ => null,
    };

    /// <summary>A shell cannot easily pass a line break in an argument: \n stands for one, \\ for a backslash.</summary>
    public static string Unescape(string typed)
    {
        var sb = new System.Text.StringBuilder(typed.Length);
        for (int i = 0; i < typed.Length; i++)
        {
            if (typed[i] == '\\' && i + 1 < typed.Length && typed[i + 1] is 'n' or '\\')
            {
                sb.Append(typed[++i] == 'n' ? '\n' : '\\');
                continue;
            }
            sb.Append(typed[i]);
        }
        return sb.ToString();
    }

    /// <summary>The reverse of <see cref="Unescape"/>, to show a nudge on one line.</summary>
    public static string Escape(string text) => text.Replace("\\", "\\\\").Replace("\n", "\\n");
}
