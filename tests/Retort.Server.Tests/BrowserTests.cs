using System.Diagnostics;

namespace Retort.Server.Tests;

/// <summary>
/// The chat page in Debian's headless Chromium, driven by Playwright (Browser/chat-page.mjs): streaming,
/// the thinking block, settings, stop, new chat, history in localStorage, both languages, nothing
/// fetched from elsewhere. .ci/run installs chromium and the script's packages, so a missing one fails.
/// </summary>
[Collection("server")]
public sealed class BrowserTests(ServerFixture fixture)
{
    [Fact]
    public async Task The_chat_page_streams_thinks_stops_and_starts_over_in_chromium()
    {
        string folder = BrowserFolder();
        Assert.True(Directory.Exists(Path.Combine(folder, "node_modules", "playwright-core")),
            $"playwright-core is not installed: run 'npm ci' in {folder} (.ci/run does)");
        // A large context: the answer the page stops is asked for 16000 tokens, which the tiny model
        // cannot finish before the click (attention alone grows with every token).
        await using var server = await fixture.StartAsync(new ServerOptions { Parallel = 2, QueueLength = 2, ContextSize = 16384 });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        string output = Path.Combine(AppContext.BaseDirectory, "browser-output");
        Directory.CreateDirectory(output);
        foreach (string old in Directory.GetFiles(output, "*.png")) File.Delete(old);

        var start = new ProcessStartInfo("node", ["chat-page.mjs", server.BaseAddress!.ToString(), output])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            Assert.Fail($"the browser script did not finish in 3 minutes:\n{await stdout}\n{await stderr}");
        }
        Assert.True(node.ExitCode == 0, $"the browser script failed ({node.ExitCode}):\n{await stdout}\n{await stderr}");
        Assert.Contains("\"ok\":true", await stdout);

        foreach (string name in new[] { "chat-page.png", "chat-page-stopped.png" })
        {
            byte[] png = await File.ReadAllBytesAsync(Path.Combine(output, name));
            Assert.True(png.Length > 10_000, $"{name} is only {png.Length} bytes");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        }
        // Stop cancelled the generation on the server and freed its slot.
        await Concurrency.WaitForIdleAsync(http);
        Assert.Equal(1, await Http.MetricAsync(http, "retort_cancelled_generations_total"));
    }

    private static string BrowserFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "Retort.Server.Tests", "Browser");
            if (File.Exists(Path.Combine(candidate, "chat-page.mjs"))) return candidate;
        }
        throw new DirectoryNotFoundException("tests/Retort.Server.Tests/Browser not found above " + AppContext.BaseDirectory);
    }
}
