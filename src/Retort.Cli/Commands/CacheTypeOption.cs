using System.CommandLine;
using Retort.Engine.Model;

namespace Retort.Cli.Commands;

/// <summary>
/// --cache-type (both), --cache-type-k and --cache-type-v (llama.cpp's -ctk/-ctv), shared by run,
/// serve and bench; a side not given takes the engine's default for the model (<see cref="KvCacheFormat.DefaultFor"/>).
/// </summary>
internal sealed class CacheTypeOption
{
    private static readonly string Names = string.Join(", ", KvCacheFormat.Names);

    private readonly Option<string?> _both = new("--cache-type")
    {
        Description = $"KV cache storage for keys and values: {Names} (default: {KvCacheFormat.DefaultDescription})",
    };

    private readonly Option<string?> _keys = new("--cache-type-k", "-ctk") { Description = $"KV cache storage for keys: {Names}" };

    private readonly Option<string?> _values = new("--cache-type-v", "-ctv") { Description = $"KV cache storage for values: {Names}" };

    public void AddTo(Command command)
    {
        command.Options.Add(_both);
        command.Options.Add(_keys);
        command.Options.Add(_values);
    }

    /// <summary>The key and value types asked for: -k/-v over --cache-type; null: the model's default.</summary>
    public (KvCacheType? Key, KvCacheType? Value) Read(ParseResult result)
    {
        string? both = result.GetValue(_both), k = result.GetValue(_keys), v = result.GetValue(_values);
        KvCacheType? key = k != null ? KvCacheFormat.Parse(k, "--cache-type-k") : both != null ? KvCacheFormat.Parse(both) : null;
        KvCacheType? value = v != null ? KvCacheFormat.Parse(v, "--cache-type-v") : both != null ? KvCacheFormat.Parse(both) : null;
        return (key, value);
    }

    /// <summary>
    /// Every (key, value) pair the lists ask for, as llama-bench reads -ctk/-ctv: the cartesian product
    /// of the key list and the value list, where a side not given takes the --cache-type list (or the
    /// default); --cache-type alone gives each of its types for both keys and values.
    /// </summary>
    public IReadOnlyList<(KvCacheType? Key, KvCacheType? Value)> ReadLists(ParseResult result)
    {
        string? both = result.GetValue(_both), k = result.GetValue(_keys), v = result.GetValue(_values);
        var bothTypes = both != null ? ParseList(both, "--cache-type") : null;
        if (k == null && v == null)
            return bothTypes?.Select(t => ((KvCacheType?)t, (KvCacheType?)t)).ToArray() ?? [(null, null)];
        var keyTypes = k != null ? ParseList(k, "--cache-type-k") : bothTypes ?? [null];
        var valueTypes = v != null ? ParseList(v, "--cache-type-v") : bothTypes ?? [null];
        return [.. keyTypes.SelectMany(key => valueTypes.Select(value => (key, value)))];
    }

    private static IReadOnlyList<KvCacheType?> ParseList(string text, string option) =>
        [.. CommaList.Items(text, option).Select(item => (KvCacheType?)KvCacheFormat.Parse(item, option))];

    /// <summary>The types for this model: what was asked for, the model's default for a side that was not.</summary>
    public static (KvCacheType Key, KvCacheType Value) Resolve(ModelConfig config, (KvCacheType? Key, KvCacheType? Value) types) =>
        (types.Key ?? KvCacheFormat.DefaultFor(config), types.Value ?? KvCacheFormat.DefaultFor(config));

    /// <summary>Sets the types on the model's transformer (the model's default for a side not asked for), checked against its head dimension.</summary>
    public static void Apply(Retort.Engine.Model.Transformer transformer, (KvCacheType? Key, KvCacheType? Value) asked)
    {
        var types = Resolve(transformer.Config, asked);
        KvCacheFormat.Check(transformer.Config, types.Key, "--cache-type-k");
        KvCacheFormat.Check(transformer.Config, types.Value, "--cache-type-v");
        transformer.KeyCacheType = types.Key;
        transformer.ValueCacheType = types.Value;
    }
}
