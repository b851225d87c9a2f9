using System.CommandLine;
using Retort.Engine.Sampling;

namespace Retort.Cli.Commands;

/// <summary>The sampling flags of <c>run</c> (with the reasoning budget), mapped onto <see cref="SamplingOptions"/>.</summary>
internal sealed class SamplingOptionSet
{
    private static readonly SamplingOptions Defaults = new();

    private readonly Option<float> _temperature = new("--temp", "--temperature")
    { Description = $"sampling temperature in [0, {SamplingOptions.MaxTemperature}]; 0 is greedy", DefaultValueFactory = _ => Defaults.Temperature };
    private readonly Option<int> _topK = new("--top-k") { Description = "keep the k most likely tokens (0: all)", DefaultValueFactory = _ => Defaults.TopK };
    private readonly Option<float> _topP = new("--top-p") { Description = "nucleus sampling threshold", DefaultValueFactory = _ => Defaults.TopP };
    private readonly Option<float> _minP = new("--min-p") { Description = "drop tokens below min-p × the best one's probability", DefaultValueFactory = _ => Defaults.MinP };
    private readonly Option<float> _repeat = new("--repeat-penalty") { Description = "repetition penalty (1: off)", DefaultValueFactory = _ => Defaults.RepetitionPenalty };
    private readonly Option<float> _frequency = new("--frequency-penalty") { Description = "frequency penalty", DefaultValueFactory = _ => Defaults.FrequencyPenalty };
    private readonly Option<float> _presence = new("--presence-penalty") { Description = "presence penalty", DefaultValueFactory = _ => Defaults.PresencePenalty };
    private readonly Option<int?> _seed = new("--seed") { Description = "random seed, for repeatable sampling" };
    private readonly Option<int> _maxTokens = new("--max-tokens", "-n") { Description = "most tokens to generate", DefaultValueFactory = _ => Defaults.MaxTokens };
    private readonly Option<string[]> _stop = new("--stop") { Description = "stop when this text appears (repeatable)", AllowMultipleArgumentsPerToken = false };
    private readonly Option<bool> _ignoreEos = new("--ignore-eos") { Description = "keep generating past end-of-sequence tokens" };
    private readonly ReasoningOptionSet _reasoning = new();

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _temperature, _topK, _topP, _minP, _repeat, _frequency, _presence, _seed, _maxTokens, _stop, _ignoreEos })
            command.Options.Add(o);
        _reasoning.AddTo(command);
    }

    public SamplingOptions Read(ParseResult r)
    {
        var options = new SamplingOptions
        {
            Temperature = r.GetValue(_temperature),
            TopK = r.GetValue(_topK),
            TopP = r.GetValue(_topP),
            MinP = r.GetValue(_minP),
            RepetitionPenalty = r.GetValue(_repeat),
            FrequencyPenalty = r.GetValue(_frequency),
            PresencePenalty = r.GetValue(_presence),
            Seed = r.GetValue(_seed),
            MaxTokens = r.GetValue(_maxTokens),
            StopStrings = r.GetValue(_stop) ?? [],
            IgnoreEos = r.GetValue(_ignoreEos),
            ReasoningBudget = _reasoning.Budget(r),
            ReasoningNudge = _reasoning.Nudge(r) ?? Defaults.ReasoningNudge,
        };
        // The engine checks the ranges; the message names the flag the user typed.
        options.Validate(setting => setting switch
        {
            nameof(SamplingOptions.Temperature) => "--temp",
            nameof(SamplingOptions.TopK) => "--top-k",
            nameof(SamplingOptions.TopP) => "--top-p",
            nameof(SamplingOptions.MinP) => "--min-p",
            nameof(SamplingOptions.RepetitionPenalty) => "--repeat-penalty",
            nameof(SamplingOptions.FrequencyPenalty) => "--frequency-penalty",
            nameof(SamplingOptions.PresencePenalty) => "--presence-penalty",
            nameof(SamplingOptions.MaxTokens) => "--max-tokens",
            nameof(SamplingOptions.StopStrings) => "--stop",
            _ => ReasoningOptionSet.FlagOf(setting) ?? setting,
        });
        return options;
    }
}
