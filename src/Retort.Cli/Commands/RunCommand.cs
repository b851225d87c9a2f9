using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Retort.Cli.Chat;
using Retort.Engine;
using Retort.Engine.Generation;
using Retort.Engine.Loading;
using Retort.Engine.Model;
using Retort.Engine.Sampling;

namespace Retort.Cli.Commands;

/// <summary><c>retort run MODEL [-p PROMPT]</c>: chat interactively, or answer one prompt.</summary>
internal static class RunCommand
{
    public static Command Create(CliIo io)
    {
        var model = new ModelArgument(io);
        var prompt = new Option<string?>("--prompt", "-p") { Description = "answer this prompt and exit" };
        var raw = new Option<bool>("--raw") { Description = "feed the prompt as is, without the chat template" };
        var json = new Option<bool>("--json") { Description = "with -p: print one JSON object (ids, text, reasoning, answer, timings)" };
        var system = new Option<string?>("--system") { Description = "a system prompt (DeepSeek advises none for R1 models)" };
        var hideThinking = new Option<bool>("--hide-thinking") { Description = "do not show the model's reasoning" };
        var threads = ThreadsOption.Create();
        var cacheType = new CacheTypeOption();
        var overflow = new Option<string>("--ctx-overflow")
        {
            Description = "when a conversation outgrows the context: 'error' or 'drop' the oldest turns",
            DefaultValueFactory = _ => "error",
        };
        overflow.AcceptOnlyFromAmong("error", "drop");
        var sampling = new SamplingOptionSet();
        var command = new Command("run", "Chat with a model, or answer one prompt with -p")
        {
            prompt, raw, json, system, hideThinking, overflow, threads,
        };
        var context = new ContextOptions();
        context.AddTo(command);
        model.AddTo(command, withTemplate: true, optional: true);
        cacheType.AddTo(command);
        sampling.AddTo(command);

        command.SetAction(result =>
        {
            var options = sampling.Read(result);
            var load = Stopwatch.StartNew();
            var kvType = cacheType.Read(result);
            using var loaded = model.Load(result, threads: ThreadsOption.Read(result, threads));
            CacheTypeOption.Apply(loaded.Transformer, kvType);
            load.Stop();
            var plan = context.Plan(result, loaded);
            if (plan.Context < 2) throw new RetortException($"--ctx must be at least 2, found {plan.Context}");
            var policy = result.GetValue(overflow) == "drop" ? ContextOverflow.DropOldest : ContextOverflow.Error;
            string? promptText = result.GetValue(prompt);
            if (promptText == null)
            {
                if (result.GetValue(json)) throw new RetortException("--json needs a prompt (-p)");
                if (result.GetValue(raw)) throw new RetortException("--raw needs a prompt (-p)");
                var session = new ChatSession(loaded, plan.Context, policy, result.GetValue(system));
                ContextOptions.Print(io, plan);
                return new ChatRepl(io, session, options, result.GetValue(hideThinking)).Run();
            }
            return Once(io, loaded, promptText, options, plan, policy, result.GetValue(raw), result.GetValue(json),
                result.GetValue(system), result.GetValue(hideThinking), load.Elapsed);
        });
        return command;
    }

    private static int Once(CliIo io, LoadedModel loaded, string promptText, SamplingOptions options, ContextPlan plan,
        ContextOverflow policy, bool raw, bool json, string? system, bool hideThinking, TimeSpan loadTime)
    {
        using var cancel = new ConsoleCancellation();
        var printer = new StreamPrinter(io, hideThinking);
        // The plan is stated once the prompt is accepted, just before the answer: a prompt that fails (too long, a
        // template that refuses it) gets its one error line and nothing else.
        bool stated = false;
        void State()
        {
            if (stated) return;
            stated = true;
            ContextOptions.Print(io, plan);
        }
        Action<GenerationChunk> onChunk = json ? _ => State() : chunk =>
        {
            State();
            printer.Print(chunk);
        };
        GenerationResult r;
        if (raw)
        {
            var generator = new Generator(loaded, plan.Context);
            int[] ids = loaded.Tokenizer.Encode(promptText, addSpecialTokens: true);
            r = generator.Generate(ids, options, ReasoningSplitter.PromptOpensReasoning(promptText), onChunk, cancel.Token);
        }
        else
        {
            var session = new ChatSession(loaded, plan.Context, policy, system);
            r = session.Send(promptText, options, onChunk, cancel.Token);
        }
        State();
        if (!json) printer.End();

        if (json)
        {
            var obj = new Dictionary<string, object?>
            {
                ["model"] = loaded.Path,
                ["prompt_tokens"] = r.PromptTokens,
                ["tokens"] = r.Tokens,
                ["text"] = r.Text,
                ["reasoning"] = r.Reasoning,
                ["answer"] = r.Answer,
                ["finish_reason"] = r.FinishReason.ToString().ToLowerInvariant(),
                ["reasoning_tokens"] = r.ReasoningTokens,
                ["reasoning_budget_exhausted"] = r.ReasoningBudgetExhausted,
                ["context"] = ContextOptions.Json(plan),
                ["timings"] = new Dictionary<string, double>
                {
                    ["load_ms"] = Math.Round(loadTime.TotalMilliseconds, 3),
                    ["prompt_ms"] = Math.Round(r.PromptTime.TotalMilliseconds, 3),
                    ["prompt_tokens_per_second"] = Math.Round(r.PromptTokensPerSecond, 3),
                    ["generation_ms"] = Math.Round(r.GenerationTime.TotalMilliseconds, 3),
                    ["generation_tokens_per_second"] = Math.Round(r.GenerationTokensPerSecond, 3),
                },
            };
            io.Out.WriteLine(JsonSerializer.Serialize(obj, JsonOutput.Options));
        }
        return r.FinishReason == FinishReason.Cancelled ? 130 : 0;
    }
}
