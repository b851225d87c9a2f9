using System.Diagnostics;
using System.Text.Json.Nodes;
using Retort.Engine.Loading;
using Retort.Server.Tests.Support;

namespace Retort.Server.Tests;

/// <summary>
/// The chat template runs on every chat request. A model whose template explodes when rendered
/// (from a stranger's GGUF) must cost each request a bounded amount and answer 400 with the
/// limit, and the server must stay up; before the limits one such request took the server to
/// 10.5 GB or killed it.
/// </summary>
[Collection("server")]
public sealed class TemplateBombTests
{
    [Theory]
    [InlineData("{{ 'a' * 1000000000 }}", "characters long")]
    [InlineData("{% for m in messages %}{% for i in range(99999) %}{% for j in range(99999) %}{{ m.content }}{% endfor %}{% endfor %}{% endfor %}", "per render")]
    [InlineData("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "macros call each other")]
    [InlineData("{{ messages[0].content * 1000000000 }}", "characters long")]
    public async Task A_template_bomb_is_a_400_and_the_server_lives_on(string template, string expected)
    {
        string file = Path.Combine(Path.GetTempPath(), $"retort-bomb-{Guid.NewGuid():N}.jinja");
        File.WriteAllText(file, template);
        try
        {
            using var model = LoadedModel.Load(ServerFixture.ModelPath, file);
            await using var server = new RetortServer(model, new ServerOptions { Port = 0, Host = "127.0.0.1", Parallel = 2, ContextSize = 256 });
            await server.StartAsync();
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            var messages = new[] { new { role = "user", content = "hi" } };
            for (int round = 0; round < 3; round++)
            {
                var clock = Stopwatch.StartNew();
                var (status, body) = await Http.PostAsync(http, "/v1/chat/completions", new { messages, max_tokens = 4 });
                Assert.Equal(400, status);
                string message = body["error"]!["message"]!.GetValue<string>();
                Assert.Contains(expected, message);
                Assert.Contains("limit", message);
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");

                (status, body) = await Http.PostAsync(http, "/api/chat", new { messages, stream = false, options = new { num_predict = 4 } });
                Assert.Equal(400, status);
                Assert.Contains(expected, body["error"]!.GetValue<string>());
            }
            using var health = await http.GetAsync("/health");
            Assert.True(health.IsSuccessStatusCode);
            Assert.Equal("ok", JsonNode.Parse(await health.Content.ReadAsStringAsync())!["status"]!.GetValue<string>());
        }
        finally
        {
            File.Delete(file);
        }
    }
}
