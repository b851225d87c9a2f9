namespace Retort.Engine.Templates;

/// <summary>
/// A model's Jinja2 chat template, rendered the way Hugging Face transformers'
/// apply_chat_template does (trim_blocks, lstrip_blocks, loop controls, tojson, raise_exception,
/// strftime_now). Parsed once; rendering is thread-safe.
/// </summary>
public sealed class ChatTemplate
{
    private readonly List<Stmt> _body;

    /// <summary>Parses <paramref name="source"/>; unsupported tags and filters fail here.</summary>
    /// <exception cref="RetortException">The template does not parse or uses an unsupported construct.</exception>
    public ChatTemplate(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        Source = source;
        if (source.Length > TemplateLimits.MaxSourceLength)
            throw new RetortException($"chat template error: the template is {source.Length:N0} characters long, over the limit of {TemplateLimits.MaxSourceLength:N0}");
        try
        {
            _body = Parser.Parse(source);
        }
        catch (TemplateError e)
        {
            throw new RetortException(e.Describe(), e);
        }
    }

    /// <summary>The template text as given.</summary>
    public string Source { get; }

    /// <summary>Reads and parses a template file (a .jinja file).</summary>
    public static ChatTemplate FromFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RetortException($"cannot read chat template {path}: {e.Message}", e);
        }
        try
        {
            return new ChatTemplate(text);
        }
        catch (RetortException e)
        {
            throw new RetortException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Renders the conversation. Like apply_chat_template, `tools` and `documents` are always
    /// defined (None unless given in <paramref name="extraVariables"/>); a null token leaves that
    /// variable undefined. Extra variables (tools, enable_thinking, date_string, ...) may be
    /// strings, numbers, booleans, null, lists and string-keyed dictionaries of those.
    /// </summary>
    /// <exception cref="RetortException">The template raised an exception or failed while rendering.</exception>
    public string Render(
        IReadOnlyList<ChatMessage> messages,
        bool addGenerationPrompt,
        string? bosToken,
        string? eosToken,
        IReadOnlyDictionary<string, object?>? extraVariables = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var globals = new Scope(null);
        TemplateGlobals.AddTo(globals);
        var vars = new Scope(globals);
        vars.Set("tools", null);
        vars.Set("documents", null);
        if (extraVariables != null)
            foreach (var kv in extraVariables) vars.Set(kv.Key, TemplateGlobals.FromClr(kv.Value));
        vars.Set("messages", messages.Select(m => (object?)TemplateGlobals.FromMessage(m)).ToList());
        vars.Set("add_generation_prompt", addGenerationPrompt);
        if (bosToken != null) vars.Set("bos_token", bosToken);
        if (eosToken != null) vars.Set("eos_token", eosToken);
        try
        {
            return Interpreter.Render(_body, vars);
        }
        catch (TemplateRaise e)
        {
            throw new RetortException(TemplateError.OneLine(e.Message), e);
        }
        catch (TemplateError e)
        {
            throw new RetortException(e.Describe(), e);
        }
    }
}
