using System.CommandLine;
using Retort.Engine;
using Retort.Engine.Model;

namespace Retort.Cli.Commands;

/// <summary>The --cache-type option shared by run, serve and bench (llama.cpp's -ctk/-ctv in one).</summary>
internal static class CacheTypeOption
{
    public static Option<string> Create() => new("--cache-type")
    {
        Description = "KV cache storage: f32 (exact, default) or f16 (half the memory)",
        DefaultValueFactory = _ => "f32",
    };

    public static KvCacheType Read(ParseResult result, Option<string> option)
    {
        string value = result.GetValue(option) ?? "f32";
        return value.ToLowerInvariant() switch
        {
            "f32" => KvCacheType.F32,
            "f16" => KvCacheType.F16,
            _ => throw new RetortException($"--cache-type must be f32 or f16, found '{value}'"),
        };
    }
}
