using Retort.Engine.Model;

namespace Retort.Cli.Commands;

/// <summary>
/// One llama-bench test: "pp" (one batch of <see cref="Prompt"/> tokens) or "tg" (<see cref="Gen"/>
/// single-token steps), measured on top of <see cref="Depth"/> tokens already in a cache of the given types.
/// </summary>
internal sealed record BenchTest(string Kind, int Prompt, int Gen, int Depth, KvCacheType Key, KvCacheType Value)
{
    public const string PromptKind = "pp";

    public const string GenerationKind = "tg";

    /// <summary>Tokens one timed run processes.</summary>
    public int Tokens => Kind == PromptKind ? Prompt : Gen;

    /// <summary>llama-bench's name for the test: pp512, tg128, pp512 @ d4096.</summary>
    public string Label => $"{Kind}{Tokens}{(Depth > 0 ? $" @ d{Depth}" : "")}";

    /// <summary>
    /// The tests in llama-bench's order: for each KV type pair, each depth, a pp test per prompt size
    /// and then a tg test per generation length (0 in either list skips it).
    /// </summary>
    public static IReadOnlyList<BenchTest> Plan(IReadOnlyList<(KvCacheType Key, KvCacheType Value)> cacheTypes,
        IReadOnlyList<int> depths, IReadOnlyList<int> prompts, IReadOnlyList<int> gens) =>
    [
        .. from types in cacheTypes
           from depth in depths
           from test in prompts.Where(p => p > 0).Select(p => new BenchTest(PromptKind, p, 0, depth, types.Key, types.Value))
               .Concat(gens.Where(n => n > 0).Select(n => new BenchTest(GenerationKind, 0, n, depth, types.Key, types.Value)))
           select test,
    ];
}
