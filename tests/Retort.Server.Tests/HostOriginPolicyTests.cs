using Microsoft.AspNetCore.Http;
using Retort.Engine;

namespace Retort.Server.Tests;

/// <summary>
/// The Host and Origin rules where a real server cannot easily be put (a non-loopback address), and the
/// checks on --allowed-host and --cors-origin values.
/// </summary>
public sealed class HostOriginPolicyTests
{
    private static HttpRequest Request(string host, string method = "GET", string? origin = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Scheme = "http";
        context.Request.Headers.Host = host;
        if (origin != null) context.Request.Headers.Origin = origin;
        return context.Request;
    }

    [Fact]
    public void A_server_exposed_on_purpose_answers_any_host_unless_hosts_are_named()
    {
        var open = new HostOriginPolicy(new ServerOptions { Host = "0.0.0.0" }, boundToLoopback: false);
        Assert.Null(open.RefuseHost(Request("evil.example")));
        Assert.Null(open.RefuseHost(Request("192.168.1.20:7860")));

        var named = new HostOriginPolicy(new ServerOptions { Host = "0.0.0.0", AllowedHosts = ["retort.lan"] }, boundToLoopback: false);
        Assert.Null(named.RefuseHost(Request("retort.lan:7860")));
        Assert.Null(named.RefuseHost(Request("localhost:7860")));
        Assert.Equal(403, named.RefuseHost(Request("evil.example"))!.Value.Status);

        var loopback = new HostOriginPolicy(new ServerOptions(), boundToLoopback: true);
        Assert.Equal(403, loopback.RefuseHost(Request("evil.example"))!.Value.Status);
        var any = new HostOriginPolicy(new ServerOptions { AllowedHosts = ["*"] }, boundToLoopback: true);
        Assert.Null(any.RefuseHost(Request("evil.example")));
    }

    [Fact]
    public void Origin_is_checked_even_when_host_is_not()
    {
        var open = new HostOriginPolicy(new ServerOptions { Host = "0.0.0.0" }, boundToLoopback: false);
        Assert.NotNull(open.RefuseOrigin(Request("192.168.1.20:7860", "POST", "http://evil.example")));
        Assert.Null(open.RefuseOrigin(Request("192.168.1.20:7860", "POST", "http://192.168.1.20:7860")));
        Assert.Null(open.RefuseOrigin(Request("192.168.1.20:7860", "POST")));
        // GET and HEAD change nothing and are answered (without CORS headers, so a foreign page cannot read them).
        Assert.Null(open.RefuseOrigin(Request("192.168.1.20:7860", "GET", "http://evil.example")));
        Assert.Null(open.RefuseOrigin(Request("192.168.1.20:7860", "HEAD", "http://evil.example")));
        foreach (string method in new[] { "PUT", "DELETE", "PATCH", "OPTIONS", "post" })
            Assert.NotNull(open.RefuseOrigin(Request("192.168.1.20:7860", method, "http://evil.example")));
    }

    [Theory]
    [InlineData("localhost:7860", "http://LOCALHOST:7860")]
    [InlineData("localhost.:7860", "http://localhost:7860")]
    [InlineData("localhost", "http://localhost:80")]
    [InlineData("localhost:80", "http://localhost")]
    [InlineData("[::1]:7860", "http://[0:0:0:0:0:0:0:1]:7860")]
    public void Same_origin_is_compared_after_normalizing_both_sides(string host, string origin)
    {
        var policy = new HostOriginPolicy(new ServerOptions(), boundToLoopback: true);
        Assert.Null(policy.RefuseOrigin(Request(host, "POST", origin)));
    }

    [Theory]
    [InlineData("http://example.com")]
    [InlineData("example.com:8080")]
    [InlineData("example.com/path")]
    [InlineData("")]
    [InlineData("exa mple.com")]
    [InlineData("*.")]
    public void A_malformed_allowed_host_is_a_one_line_error_naming_the_flag(string value)
    {
        var ex = Assert.Throws<RetortException>(() => new HostOriginPolicy(new ServerOptions { AllowedHosts = [value] }, boundToLoopback: true));
        Assert.Contains("--allowed-host", ex.Message);
        Assert.Contains($"'{value}'", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Theory]
    [InlineData("app.example")]
    [InlineData("http://app.example/path")]
    [InlineData("http://app.example:99999")]
    [InlineData("http://")]
    [InlineData("://app.example")]
    [InlineData("**")]
    public void A_malformed_cors_origin_is_a_one_line_error_naming_the_flag(string value)
    {
        var ex = Assert.Throws<RetortException>(() => new HostOriginPolicy(new ServerOptions { CorsOrigins = [value] }, boundToLoopback: true));
        Assert.Contains("--cors-origin", ex.Message);
        Assert.Contains($"'{value}'", ex.Message);
    }

    [Fact]
    public void Cors_origins_are_matched_exactly_after_normalizing()
    {
        var policy = new HostOriginPolicy(new ServerOptions { CorsOrigins = ["http://App.Example:3000/", "https://secure.example"] }, boundToLoopback: true);
        Assert.Null(policy.RefuseOrigin(Request("localhost", "POST", "http://app.example:3000")));
        Assert.Null(policy.RefuseOrigin(Request("localhost", "POST", "https://secure.example:443")));
        Assert.NotNull(policy.RefuseOrigin(Request("localhost", "POST", "http://secure.example")));
        Assert.NotNull(policy.RefuseOrigin(Request("localhost", "POST", "http://app.example:3000.evil.example")));
        Assert.NotNull(policy.RefuseOrigin(Request("localhost", "POST", "http://app.example")));
        Assert.NotNull(policy.RefuseOrigin(Request("localhost", "POST", "null")));
    }

    [Fact]
    public void The_server_refuses_bad_lists_before_it_listens()
    {
        using var model = Retort.Engine.Loading.LoadedModel.Load(ServerFixture.ModelPath);
        var ex = Assert.Throws<RetortException>(() => new RetortServer(model, new ServerOptions { Port = 0, CorsOrigins = ["localhost:3000"] }));
        Assert.Contains("--cors-origin", ex.Message);
    }
}
