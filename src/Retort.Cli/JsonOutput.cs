using System.Text.Encodings.Web;
using System.Text.Json;

namespace Retort.Cli;

/// <summary>JSON settings for what the CLI prints: readable non-ASCII text, as users expect in a terminal.</summary>
internal static class JsonOutput
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static JsonSerializerOptions Indented { get; } = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
    };
}
