using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Retort.Server.Tests;

/// <summary>
/// What an attacker tried against a real server on 127.0.0.1: cross-site requests from web pages, DNS
/// rebinding (foreign Host headers), bodies that broke the JSON parser, unchecked sampling values, HEAD
/// and upper-case paths, and per-request sampler buffers. Every refusal is a 4xx with the endpoint's error
/// JSON (OpenAI's object on /v1 and the rest, Ollama's {"error": "..."} on /api in any case).
/// </summary>
[Collection("server")]
public sealed class AttackTests(ServerFixture fixture)
{
    private Uri Server => fixture.Server.BaseAddress!;

    private int Port => Server.Port;

    private static readonly string[] PostPaths = ["/v1/chat/completions", "/v1/completions", "/api/chat", "/api/generate", "/api/show"];

    private static readonly string[] GetPaths = ["/", "/health", "/v1/models", "/api/tags", "/api/version", "/metrics"];

    /// <summary>A body each POST endpoint accepts (two tokens at most).</summary>
    private static string ValidBody(string path) => path.ToLowerInvariant() switch
    {
        "/v1/chat/completions" => """{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}""",
        "/v1/completions" => """{"prompt":"hi","max_tokens":2}""",
        "/api/chat" => """{"messages":[{"role":"user","content":"hi"}],"stream":false,"options":{"num_predict":2}}""",
        "/api/generate" => """{"prompt":"hi","stream":false,"options":{"num_predict":2}}""",
        "/api/show" => $$"""{"model":"{{ServerFixture.ModelId}}"}""",
        _ => throw new ArgumentException(path),
    };

    /// <summary>Checks the status and the error shape the path's API uses; returns the message.</summary>
    private static string AssertError(string path, RawHttp.Response r, int status, string? inMessage = null)
    {
        Assert.True(status == r.Status, $"expected {status}, got {r.Status}: {r.Text}");
        Assert.StartsWith("application/json", r.Header("Content-Type"));
        var body = r.Json;
        string message;
        if (path.StartsWith("/api", StringComparison.OrdinalIgnoreCase))
        {
            var (name, value) = Assert.Single(body);
            Assert.Equal("error", name);
            Assert.Equal(JsonValueKind.String, value!.GetValueKind());
            message = value.GetValue<string>();
        }
        else
        {
            var error = body["error"]!.AsObject();
            message = error["message"]!.GetValue<string>();
            Assert.False(string.IsNullOrWhiteSpace(error["type"]!.GetValue<string>()));
            Assert.True(error.ContainsKey("param"), "the OpenAI error has no 'param'");
            Assert.True(error.ContainsKey("code"), "the OpenAI error has no 'code'");
        }
        Assert.False(string.IsNullOrWhiteSpace(message));
        Assert.DoesNotContain('\n', message);
        if (inMessage != null) Assert.Contains(inMessage, message);
        return message;
    }

    private static string? Param(RawHttp.Response r) => r.Json["error"]!["param"]?.GetValue<string>();

    // ---- Cross-site requests --------------------------------------------------------------------

    [Fact]
    public async Task A_cross_site_text_plain_post_is_403_and_generates_nothing()
    {
        await using var server = await fixture.StartAsync(new ServerOptions { ContextSize = 256 });
        var uri = server.BaseAddress!;
        using var http = new HttpClient { BaseAddress = uri };
        long prompts = await Http.MetricAsync(http, "retort_prompt_tokens_total");
        long generated = await Http.MetricAsync(http, "retort_completion_tokens_total");
        // What a page on evil.example can send without a preflight: text/plain, form encodings, a typeless Blob.
        foreach (string type in new[] { "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x" })
        {
            var r = await RawHttp.PostAsync(uri, "/api/generate", type, Encoding.UTF8.GetBytes("""{"prompt":"hi","stream":false}"""),
                ("Origin", "http://evil.example"));
            AssertError("/api/generate", r, 403, "'http://evil.example'");
            Assert.Contains("--cors-origin", r.Json["error"]!.GetValue<string>());
            Assert.Null(r.Header("Access-Control-Allow-Origin"));
        }
        var json = await RawHttp.PostJsonAsync(uri, "/v1/chat/completions", ValidBody("/v1/chat/completions"), ("Origin", "http://evil.example"));
        AssertError("/v1/chat/completions", json, 403, "evil.example");
        Assert.Equal("origin_not_allowed", json.Json["error"]!["code"]!.GetValue<string>());
        // A browser that sent no Origin still says where the request came from.
        var fetchMetadata = await RawHttp.PostJsonAsync(uri, "/api/generate", ValidBody("/api/generate"), ("Sec-Fetch-Site", "cross-site"));
        AssertError("/api/generate", fetchMetadata, 403, "cross-site");
        Assert.Equal(prompts, await Http.MetricAsync(http, "retort_prompt_tokens_total"));
        Assert.Equal(generated, await Http.MetricAsync(http, "retort_completion_tokens_total"));
    }

    public static TheoryData<string> ForeignOrigins() =>
    [
        "null", "http://evil.example", "http://127.0.0.1", "https://127.0.0.1:{port}", "http://127.0.0.1:{other}",
        "http://localhost:{port}", "http://127.0.0.1:{port}.evil.example", "http://evil.example:{port}", "not an origin",
        "http://127.0.0.1:{port}/path", "http://[::1]:{port}", "file://",
    ];

    [Theory]
    [MemberData(nameof(ForeignOrigins))]
    public async Task Every_origin_but_the_servers_own_is_refused_on_every_unsafe_method(string template)
    {
        string origin = template.Replace("{port}", Port.ToString()).Replace("{other}", (Port + 1).ToString());
        foreach (string path in PostPaths)
        {
            var r = await RawHttp.PostJsonAsync(Server, path, ValidBody(path), ("Origin", origin));
            AssertError(path, r, 403, "--cors-origin");
            Assert.Null(r.Header("Access-Control-Allow-Origin"));
        }
        foreach (string method in new[] { "PUT", "DELETE", "PATCH", "OPTIONS" })
        {
            var r = await RawHttp.SendAsync(Server, method, "/v1/models", [("Origin", origin), ("Access-Control-Request-Method", "POST")]);
            AssertError("/v1/models", r, 403, "--cors-origin");
        }
    }

    [Fact]
    public async Task Two_origin_headers_are_refused()
    {
        var r = await RawHttp.PostJsonAsync(Server, "/api/show", ValidBody("/api/show"),
            ("Origin", $"http://127.0.0.1:{Port}"), ("Origin", "http://evil.example"));
        AssertError("/api/show", r, 403);
    }

    [Theory]
    [InlineData("127.0.0.1:{port}", "http://127.0.0.1:{port}")]
    [InlineData("localhost:{port}", "http://localhost:{port}")]
    [InlineData("LOCALHOST:{port}", "http://localhost:{port}")]
    [InlineData("[::1]:{port}", "http://[::1]:{port}")]
    [InlineData("localhost", "http://localhost:80")]
    public async Task The_servers_own_page_and_clients_without_origin_are_answered(string host, string origin)
    {
        host = host.Replace("{port}", Port.ToString());
        origin = origin.Replace("{port}", Port.ToString());
        var samePage = await RawHttp.PostJsonAsync(Server, "/v1/chat/completions", ValidBody("/v1/chat/completions"), ("Host", host), ("Origin", origin));
        Assert.True(samePage.Status == 200, samePage.Text);
        Assert.Null(samePage.Header("Access-Control-Allow-Origin"));
        var curl = await RawHttp.PostJsonAsync(Server, "/api/generate", ValidBody("/api/generate"), ("Host", host));
        Assert.True(curl.Status == 200, curl.Text);
        var options = await RawHttp.SendAsync(Server, "OPTIONS", "/v1/chat/completions", [("Host", host)]);
        Assert.Equal(204, options.Status);
        Assert.Contains("POST", options.Header("Allow"));
    }

    [Fact]
    public async Task An_allowed_origin_gets_cors_answers_and_others_still_do_not()
    {
        const string app = "http://app.example:3000";
        await using var server = await fixture.StartAsync(new ServerOptions { ContextSize = 256, CorsOrigins = [app] });
        var uri = server.BaseAddress!;

        var preflight = await RawHttp.SendAsync(uri, "OPTIONS", "/v1/chat/completions",
        [
            ("Origin", app), ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "authorization, content-type, x-stainless-os"),
        ]);
        Assert.Equal(204, preflight.Status);
        Assert.Equal(app, preflight.Header("Access-Control-Allow-Origin"));
        Assert.Contains("Origin", preflight.Header("Vary"));
        Assert.Contains("POST", preflight.Header("Access-Control-Allow-Methods"));
        string allowed = preflight.Header("Access-Control-Allow-Headers")!;
        foreach (string name in new[] { "Authorization", "Content-Type", "x-stainless-os" })
            Assert.Contains(name, allowed, StringComparison.OrdinalIgnoreCase);
        Assert.True(int.Parse(preflight.Header("Access-Control-Max-Age")!) > 0);

        var post = await RawHttp.PostJsonAsync(uri, "/v1/chat/completions", ValidBody("/v1/chat/completions"), ("Origin", app));
        Assert.True(post.Status == 200, post.Text);
        Assert.Equal(app, post.Header("Access-Control-Allow-Origin"));
        Assert.Contains("Origin", post.Header("Vary"));
        var stream = await RawHttp.PostJsonAsync(uri, "/api/chat",
            """{"messages":[{"role":"user","content":"hi"}],"stream":true,"options":{"num_predict":2}}""", ("Origin", "HTTP://APP.EXAMPLE:3000"));
        Assert.Equal(200, stream.Status);
        Assert.StartsWith("application/x-ndjson", stream.Header("Content-Type"));
        Assert.Equal("HTTP://APP.EXAMPLE:3000", stream.Header("Access-Control-Allow-Origin"));
        Assert.Contains("\"done\":true", stream.Text);
        var sse = await RawHttp.PostJsonAsync(uri, "/v1/chat/completions",
            """{"messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":2}""", ("Origin", app));
        Assert.Equal(app, sse.Header("Access-Control-Allow-Origin"));
        Assert.EndsWith("data: [DONE]\n\n", sse.Text);

        var get = await RawHttp.SendAsync(uri, "GET", "/v1/models", [("Origin", app)]);
        Assert.Equal(app, get.Header("Access-Control-Allow-Origin"));
        // GET answers anyone (it changes nothing), but only allowed pages get the header that lets them read it.
        var foreignGet = await RawHttp.SendAsync(uri, "GET", "/v1/models", [("Origin", "http://evil.example")]);
        Assert.Equal(200, foreignGet.Status);
        Assert.Null(foreignGet.Header("Access-Control-Allow-Origin"));

        foreach (string other in new[] { "http://app.example:3001", "https://app.example:3000", "http://app.example", "http://evil.example", "null" })
        {
            var refused = await RawHttp.PostJsonAsync(uri, "/api/generate", ValidBody("/api/generate"), ("Origin", other));
            AssertError("/api/generate", refused, 403);
            var refusedPreflight = await RawHttp.SendAsync(uri, "OPTIONS", "/api/generate", [("Origin", other), ("Access-Control-Request-Method", "POST")]);
            AssertError("/api/generate", refusedPreflight, 403);
            Assert.Null(refusedPreflight.Header("Access-Control-Allow-Origin"));
        }
    }

    [Fact]
    public async Task A_star_cors_origin_allows_every_page_explicitly()
    {
        await using var server = await fixture.StartAsync(new ServerOptions { ContextSize = 256, CorsOrigins = ["*"] });
        foreach (string origin in new[] { "http://evil.example", "null" })
        {
            var r = await RawHttp.PostJsonAsync(server.BaseAddress!, "/api/show", ValidBody("/api/show"), ("Origin", origin));
            Assert.True(r.Status == 200, r.Text);
            Assert.Equal(origin, r.Header("Access-Control-Allow-Origin"));
        }
    }

    [Fact]
    public async Task Preflight_is_answered_before_the_api_key_is_asked_for()
    {
        const string app = "http://localhost:5173";
        await using var server = await fixture.StartAsync(new ServerOptions { ContextSize = 256, ApiKey = "sesame", CorsOrigins = [app] });
        var preflight = await RawHttp.SendAsync(server.BaseAddress!, "OPTIONS", "/v1/chat/completions",
            [("Origin", app), ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "authorization,content-type")]);
        Assert.Equal(204, preflight.Status);
        Assert.Equal(app, preflight.Header("Access-Control-Allow-Origin"));
        var noKey = await RawHttp.PostJsonAsync(server.BaseAddress!, "/v1/chat/completions", ValidBody("/v1/chat/completions"), ("Origin", app));
        AssertError("/v1/chat/completions", noKey, 401);
        // The browser can read why.
        Assert.Equal(app, noKey.Header("Access-Control-Allow-Origin"));
        var withKey = await RawHttp.PostJsonAsync(server.BaseAddress!, "/v1/chat/completions", ValidBody("/v1/chat/completions"),
            ("Origin", app), ("Authorization", "Bearer sesame"));
        Assert.Equal(200, withKey.Status);
    }

    // ---- DNS rebinding: the Host header ---------------------------------------------------------

    public static TheoryData<string> ForeignHosts() =>
    [
        "evil.example", "evil.example:{port}", "localhost.evil.example", "localhost.evil.example:{port}", "127.0.0.1.evil.example",
        "evil-localhost", "localhostevil.example", "10.0.0.1:{port}", "0.0.0.0:{port}", "[::2]:{port}", "[fe80::1]", "1.2.3.4",
        "127.0.0.1.nip.io:{port}", "xn--localhost-evil.example", "evil.example.", "evil.localhost.example",
    ];

    [Theory]
    [MemberData(nameof(ForeignHosts))]
    public async Task A_foreign_host_is_refused_on_every_endpoint(string template)
    {
        string host = template.Replace("{port}", Port.ToString());
        foreach (string path in GetPaths)
        {
            var r = await RawHttp.SendAsync(Server, "GET", path, [("Host", host)]);
            AssertError(path, r, 403, "--allowed-host");
            if (!path.StartsWith("/api", StringComparison.Ordinal)) Assert.Equal("host_not_allowed", r.Json["error"]!["code"]!.GetValue<string>());
        }
        AssertError("/api/show", await RawHttp.PostJsonAsync(Server, "/api/show", ValidBody("/api/show"), ("Host", host)), 403, "--allowed-host");
    }

    /// <summary>
    /// Hosts that are not host[:port] at all. Kestrel refuses most itself, before the server runs, with a bare
    /// 400 that cannot be given a body; the rest the server refuses with its own 400. None is ever answered.
    /// </summary>
    [Theory]
    [InlineData("localhost:{port}@evil.example")]
    [InlineData("[::1")]
    [InlineData("[::1]x")]
    [InlineData("::1")]
    [InlineData("a b")]
    [InlineData("localhost:-1")]
    [InlineData("localhost:99999")]
    [InlineData("localhost:{port}:{port}")]
    [InlineData("évil.example")]
    public async Task A_malformed_host_is_400_and_never_answered(string template)
    {
        string host = template.Replace("{port}", Port.ToString());
        foreach (string path in new[] { "/v1/models", "/api/tags" })
        {
            var r = await RawHttp.SendAsync(Server, "GET", path, [("Host", host)]);
            Assert.Equal(400, r.Status);
            if (r.Body.Length > 0) AssertError(path, r, 400, "Host");
        }
    }

    [Fact]
    public async Task The_host_refusal_names_the_host_and_how_to_allow_it()
    {
        var r = await RawHttp.SendAsync(Server, "GET", "/v1/models", [("Host", $"rebind.evil.example:{Port}")]);
        string message = AssertError("/v1/models", r, 403);
        Assert.Contains($"'rebind.evil.example:{Port}'", message);
        Assert.Contains("--allowed-host rebind.evil.example", message);
    }

    public static TheoryData<string> LoopbackHosts() =>
    [
        "localhost", "localhost:{port}", "LOCALHOST:8080", "LocalHost", "localhost.", "localhost.:{port}", "127.0.0.1", "127.0.0.1:{port}",
        "127.0.0.1.", "127.0.0.1.:{port}", "127.1.2.3", "[::1]", "[::1]:{port}", "[0:0:0:0:0:0:0:1]:80", "[::ffff:127.0.0.1]", "app.localhost:3000",
        "A.B.LOCALHOST",
    ];

    [Theory]
    [MemberData(nameof(LoopbackHosts))]
    public async Task Loopback_names_are_answered_in_any_spelling(string template)
    {
        string host = template.Replace("{port}", Port.ToString());
        var r = await RawHttp.SendAsync(Server, "GET", "/v1/models", [("Host", host)]);
        Assert.True(r.Status == 200, $"{host}: {r.Status} {r.Text}");
        Assert.Equal("list", r.Json["object"]!.GetValue<string>());
    }

    [Fact]
    public async Task Allowed_hosts_are_answered_and_look_alikes_are_not()
    {
        await using var server = await fixture.StartAsync(new ServerOptions
        {
            ContextSize = 256, AllowedHosts = ["retort.lan", "*.example.com", "10.1.2.3", "fe80::1"],
        });
        var uri = server.BaseAddress!;
        foreach (string host in new[] { "retort.lan", "RETORT.LAN:7860", "retort.lan.", "a.example.com", "b.a.example.com:80", "10.1.2.3:7860", "[fe80::1]:1", "localhost" })
        {
            var r = await RawHttp.SendAsync(uri, "GET", "/api/tags", [("Host", host)]);
            Assert.True(r.Status == 200, $"{host}: {r.Status} {r.Text}");
        }
        foreach (string host in new[] { "example.com", "evilexample.com", "retort.lan.evil.example", "xretort.lan", "10.1.2.4", "[fe80::2]" })
        {
            var r = await RawHttp.SendAsync(uri, "GET", "/api/tags", [("Host", host)]);
            AssertError("/api/tags", r, 403, "--allowed-host");
        }
    }

    // ---- Request bodies -------------------------------------------------------------------------

    /// <summary>Bodies the parser must refuse, each with what the message must say.</summary>
    public static TheoryData<string, byte[], string> BadBodies()
    {
        static byte[] U(string s) => Encoding.UTF8.GetBytes(s);
        static byte[] Join(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
        var data = new TheoryData<string, byte[], string>();
        var bodies = new (byte[] Body, string Says)[]
        {
            (U("""{"prompt":"a\ud800b","messages":[{"role":"user","content":"a\ud800b"}],"model":"a\ud800b"}"""), "surrogate"),
            (U("""{"prompt":"\udc00"}"""), "surrogate"),
            (U("""{"prompt":"\ud800\u0041"}"""), "surrogate"),
            (U("""{"a\ud800":1}"""), "surrogate"),
            (Join(U("""{"prompt":"""), [(byte)'"', 0xFF, 0xFE, (byte)'"'], U("}")), "invalid UTF-8"),
            (Join(U("""{"prompt":"""), [(byte)'"', 0xC0, 0xAF, (byte)'"'], U("}")), "invalid UTF-8"),
            (Join(U("""{"prompt":"""), [(byte)'"', 0xED, 0xA0, 0x80, (byte)'"'], U("}")), "invalid UTF-8"),
            (Join(U("""{"prompt":"ok"}"""), [0xE2, 0x82]), "invalid UTF-8"),
            (U("""{"model":"a","model":"b"}"""), "duplicate key 'model'"),
            (U("""{"prompt":"hi","options":{"temperature":1,"temperature":2},"messages":[{"role":"user","content":"x","content":"y"}]}"""), "duplicate key"),
            (U("{\"prompt\":" + new string('[', 5000) + new string(']', 5000) + "}"), "depth"),
            (U(new string('{', 3) + "}"), "invalid JSON"),
            (U("""{"messages": ["""), "invalid JSON at line 1"),
            (U("{\n  \"prompt\": \"hi\",\n  oops\n}"), "line 3"),
            (U("""{"prompt":"hi"} trailing"""), "invalid JSON"),
            (U("""{"prompt":"hi",}"""), "invalid JSON"),
            (U("""{/* comment */"prompt":"hi"}"""), "invalid JSON"),
            (U(""), "empty"),
            (U("  \r\n "), "empty"),
            (U("[]"), "must be a JSON object"),
            (U("\"hi\""), "must be a JSON object"),
            (U("null"), "must be a JSON object"),
            (U("""{"model":5,"prompt":5,"messages":"hi","stream":"yes"}"""), "must be"),
            (U("""{"model":["x"],"messages":[{"role":"user","content":"hi"}],"prompt":"hi"}"""), "'model' must be a string"),
        };
        foreach (string path in PostPaths)
            foreach (var (body, says) in bodies)
                data.Add(path, body, says);
        return data;
    }

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task A_broken_body_is_400_saying_what_and_where(string path, byte[] body, string says)
    {
        var r = await RawHttp.PostAsync(Server, path, "application/json", body);
        string message = AssertError(path, r, 400);
        Assert.Contains(says, message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Keys_may_repeat_across_objects_and_a_bom_is_skipped()
    {
        string body = """{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}],"max_tokens":1}""";
        var r = await RawHttp.PostAsync(Server, "/v1/chat/completions", "application/json", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(body)]);
        Assert.True(r.Status == 200, r.Text);
        var nested = await RawHttp.PostJsonAsync(Server, "/api/show", """{"model":"qwen2-tiny-q8_0","x":{"a":{"k":1},"b":{"k":2}},"y":{"k":3}}""");
        Assert.True(nested.Status == 200, nested.Text);
    }

    [Theory]
    [InlineData("/v1/chat/completions", """{"messages":"hi"}""", "'messages'")]
    [InlineData("/v1/chat/completions", """{"messages":[5]}""", "message")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":7,"content":"hi"}]}""", "'role'")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":{"text":"hi"}}]}""", "content")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"temperature":"hot"}""", "'temperature'")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"temperature":1e400}""", "'temperature'")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"max_tokens":1e300}""", "'max_tokens'")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"stop":[1]}""", "'stop'")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"stream":"no"}""", "'stream' must be true or false")]
    [InlineData("/api/generate", """{"prompt":"hi","stream":1}""", "'stream' must be true or false")]
    [InlineData("/v1/completions", """{"prompt":5}""", "'prompt'")]
    [InlineData("/v1/completions", """{"prompt":["a","b"]}""", "'prompt'")]
    [InlineData("/api/generate", """{"prompt":"hi","options":[]}""", "'options'")]
    [InlineData("/api/generate", """{"prompt":"hi","options":{"temperature":true}}""", "'temperature'")]
    [InlineData("/api/generate", """{"prompt":"hi","options":{"num_predict":1.5}}""", "'num_predict'")]
    [InlineData("/api/generate", """{"prompt":"hi","system":false}""", "'system'")]
    [InlineData("/api/chat", """{"messages":[{"role":"user","content":["hi"]}]}""", "'content'")]
    [InlineData("/api/chat", """{"messages":{}}""", "'messages'")]
    [InlineData("/api/show", """{"model":{}}""", "'model'")]
    public async Task A_value_of_the_wrong_type_is_400_naming_the_field(string path, string body, string says)
    {
        var r = await RawHttp.PostJsonAsync(Server, path, body);
        AssertError(path, r, 400, says);
    }

    [Theory]
    [InlineData("/api/generate")]
    [InlineData("/v1/chat/completions")]
    public async Task A_body_over_the_limit_is_413(string path)
    {
        await using var server = await fixture.StartAsync(new ServerOptions { ContextSize = 256, MaxRequestBodyBytes = 10_000 });
        var r = await RawHttp.PostJsonAsync(server.BaseAddress!, path, $$"""{"prompt":"{{new string('x', 20_000)}}"}""");
        AssertError(path, r, 413);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("text/plain; charset=utf-8")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=b")]
    [InlineData("application/json-patch+json")]
    [InlineData("application/jsonx")]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData("not a media type")]
    [InlineData(null)]
    public async Task Another_content_type_is_415(string? type)
    {
        foreach (string path in PostPaths)
        {
            var headers = type == null ? new List<(string, string)>() : [("Content-Type", type)];
            var r = await RawHttp.SendAsync(Server, "POST", path, headers, Encoding.UTF8.GetBytes(ValidBody(path)));
            AssertError(path, r, 415, "application/json");
        }
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("Application/JSON")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/json;charset=\"UTF-8\"")]
    [InlineData("APPLICATION/JSON; CHARSET=UTF8")]
    public async Task Json_is_accepted_in_any_spelling(string type)
    {
        foreach (string path in new[] { "/api/show", "/v1/chat/completions" })
        {
            var r = await RawHttp.PostAsync(Server, path, type, Encoding.UTF8.GetBytes(ValidBody(path)));
            Assert.True(r.Status == 200, $"{path} with '{type}': {r.Status} {r.Text}");
        }
    }

    // ---- Sampling values ------------------------------------------------------------------------

    [Theory]
    [InlineData("temperature", "1000", "[0, 2]")]
    [InlineData("temperature", "2.5", "[0, 2]")]
    [InlineData("temperature", "-0.1", "[0, 2]")]
    [InlineData("top_p", "0", "(0, 1]")]
    [InlineData("top_p", "1.5", "(0, 1]")]
    [InlineData("top_k", "-1", "≥ 0")]
    [InlineData("min_p", "1.01", "[0, 1]")]
    [InlineData("presence_penalty", "2.5", "[-2, 2]")]
    [InlineData("frequency_penalty", "-3", "[-2, 2]")]
    [InlineData("repetition_penalty", "0", "[0.1, 10]")]
    [InlineData("repetition_penalty", "1e30", "[0.1, 10]")]
    [InlineData("max_tokens", "0", "between 1")]
    [InlineData("n", "2", "must be 1")]
    [InlineData("seed", "1.5", "whole number")]
    [InlineData("seed", "1e30", "64-bit")]
    [InlineData("stop", "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\"]", "at most 16")]
    public async Task Openai_sampling_values_out_of_range_are_400_with_the_param(string field, string value, string range)
    {
        string body = $$"""{"messages":[{"role":"user","content":"hi"}],"max_tokens":2,"{{field}}":{{value}}}""";
        if (field == "max_tokens") body = $$"""{"messages":[{"role":"user","content":"hi"}],"max_tokens":{{value}}}""";
        var r = await RawHttp.PostJsonAsync(Server, "/v1/chat/completions", body);
        string message = AssertError("/v1/chat/completions", r, 400, range);
        Assert.Equal(field, Param(r));
        Assert.Contains($"'{field}'", message);
        if (field == "temperature") Assert.Contains("found " + value, message);
    }

    [Theory]
    [InlineData("temperature", "1000", "[0, 5]")]
    [InlineData("temperature", "5.5", "[0, 5]")]
    [InlineData("temperature", "-1", "[0, 5]")]
    [InlineData("top_p", "0", "(0, 1]")]
    [InlineData("top_k", "-5", "≥ 0")]
    [InlineData("min_p", "-0.5", "[0, 1]")]
    [InlineData("repeat_penalty", "0", "[0.1, 10]")]
    [InlineData("repeat_penalty", "-1", "[0.1, 10]")]
    [InlineData("presence_penalty", "9", "[-2, 2]")]
    [InlineData("num_predict", "0", "between 1")]
    [InlineData("seed", "\"x\"", "'seed'")]
    [InlineData("stop", "[\"{long}\"]", "at most 256")]
    public async Task Ollama_sampling_values_out_of_range_are_400(string field, string value, string range)
    {
        value = value.Replace("{long}", new string('a', 300));
        foreach (string path in new[] { "/api/generate", "/api/chat" })
        {
            string body = """{"prompt":"hi","messages":[{"role":"user","content":"hi"}],"stream":false,"options":{""" + $"\"{field}\":{value}" + "}}";
            var r = await RawHttp.PostJsonAsync(Server, path, body);
            string message = AssertError(path, r, 400, range);
            Assert.Contains($"'{field}'", message);
        }
    }

    [Fact]
    public async Task Values_inside_the_ranges_are_accepted()
    {
        var openai = await RawHttp.PostJsonAsync(Server, "/v1/chat/completions",
            """{"messages":[{"role":"user","content":"hi"}],"max_tokens":2,"temperature":2,"top_p":1,"top_k":0,"min_p":1,"presence_penalty":-2,"frequency_penalty":2,"seed":1099511627776}""");
        Assert.True(openai.Status == 200, openai.Text);
        var tiny = await RawHttp.PostJsonAsync(Server, "/v1/chat/completions",
            """{"messages":[{"role":"user","content":"hi"}],"max_tokens":2,"temperature":1e-30,"seed":-9223372036854775808}""");
        Assert.True(tiny.Status == 200, tiny.Text);
        var ollama = await RawHttp.PostJsonAsync(Server, "/api/generate",
            """{"prompt":"hi","stream":false,"options":{"num_predict":2,"temperature":4.5,"repeat_penalty":10,"seed":-1,"top_k":100000}}""");
        Assert.True(ollama.Status == 200, ollama.Text);
    }

    // ---- HEAD, methods and case -----------------------------------------------------------------

    [Fact]
    public async Task Head_is_answered_wherever_get_is_with_its_headers_and_no_body()
    {
        foreach (string path in GetPaths)
        {
            var get = await RawHttp.SendAsync(Server, "GET", path);
            var head = await RawHttp.SendAsync(Server, "HEAD", path);
            Assert.True(get.Status == 200, $"GET {path}: {get.Status}");
            Assert.True(head.Status == 200, $"HEAD {path}: {head.Status}");
            Assert.Equal(get.Header("Content-Type"), head.Header("Content-Type"));
            Assert.Empty(head.Body);
            Assert.NotEmpty(get.Body);
        }
        var missing = await RawHttp.SendAsync(Server, "HEAD", "/api/nothing");
        Assert.Equal(404, missing.Status);
        Assert.Empty(missing.Body);
    }

    [Theory]
    [InlineData("GET", "/v1/chat/completions", "POST")]
    [InlineData("GET", "/api/generate", "POST")]
    [InlineData("PUT", "/v1/models", "GET")]
    [InlineData("DELETE", "/API/TAGS", "GET")]
    [InlineData("PATCH", "/health/", "HEAD")]
    public async Task A_method_an_endpoint_lacks_is_405_in_its_shape(string method, string path, string allowed)
    {
        var r = await RawHttp.SendAsync(Server, method, path);
        AssertError(path, r, 405, method);
        Assert.Contains(allowed, r.Header("Allow"));
    }

    [Fact]
    public async Task Upper_case_paths_are_routed_and_answer_in_their_apis_shape()
    {
        var tags = await RawHttp.SendAsync(Server, "GET", "/API/TAGS");
        Assert.Equal(200, tags.Status);
        Assert.NotNull(tags.Json["models"]);
        AssertError("/API/CHAT", await RawHttp.PostJsonAsync(Server, "/API/CHAT", "{"), 400, "invalid JSON");
        AssertError("/Api/Generate", await RawHttp.PostJsonAsync(Server, "/Api/Generate", """{"prompt":"hi","options":{"temperature":1000}}"""), 400, "'temperature'");
        AssertError("/API/NOTHING", await RawHttp.SendAsync(Server, "GET", "/API/NOTHING"), 404);
        AssertError("/API/TAGS", await RawHttp.SendAsync(Server, "GET", "/API/TAGS", [("Host", "evil.example")]), 403);
        AssertError("/V1/NOTHING", await RawHttp.SendAsync(Server, "GET", "/V1/NOTHING"), 404);
        AssertError("/V1/CHAT/COMPLETIONS", await RawHttp.PostJsonAsync(Server, "/V1/CHAT/COMPLETIONS", "{"), 400, "invalid JSON");

        await using var keyed = await fixture.StartAsync(new ServerOptions { ContextSize = 256, ApiKey = "sesame" });
        AssertError("/API/TAGS", await RawHttp.SendAsync(keyed.BaseAddress!, "GET", "/API/TAGS"), 401, "API key");
        var health = await RawHttp.SendAsync(keyed.BaseAddress!, "HEAD", "/HEALTH");
        Assert.Equal(200, health.Status);
    }

    // ---- Memory: the sampler's buffers belong to the slot ---------------------------------------

    [Fact]
    public async Task Requests_on_a_slot_reuse_its_sampler_buffers()
    {
        await using var server = await fixture.StartAsync(new ServerOptions { ContextSize = 256, Parallel = 1 });
        var slot = Assert.Single(server.State.Service.Pool.Slots);
        var workspace = slot.Generator.SamplingWorkspace;
        string body = """{"messages":[{"role":"user","content":"hi"}],"max_tokens":3,"temperature":0.8,"ignore_eos":true}""";
        var first = await RawHttp.PostJsonAsync(server.BaseAddress!, "/v1/chat/completions", body);
        Assert.Equal(200, first.Status);
        int allocations = workspace.Allocations;
        // The request sampled through the slot's buffers (candidates and probabilities), allocating them once.
        Assert.Equal(2, allocations);
        for (int i = 0; i < 5; i++)
        {
            var r = await RawHttp.PostJsonAsync(server.BaseAddress!, i % 2 == 0 ? "/v1/chat/completions" : "/api/generate",
                i % 2 == 0 ? body : """{"prompt":"hello","stream":false,"options":{"num_predict":3,"temperature":0.9}}""");
            Assert.Equal(200, r.Status);
        }
        Assert.Same(workspace, slot.Generator.SamplingWorkspace);
        Assert.Equal(allocations, workspace.Allocations);
    }
}
