using Microsoft.AspNetCore.Http;

namespace Retort.Server;

/// <summary>The chat page, served from resources embedded in this assembly (works offline, no files to deploy).</summary>
internal static class WebPage
{
    public static IResult Serve(string name)
    {
        var stream = typeof(WebPage).Assembly.GetManifestResourceStream("Retort.Server.wwwroot." + name);
        if (stream == null) return Results.NotFound();
        string type = Path.GetExtension(name) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            _ => "application/octet-stream",
        };
        return Results.Stream(stream, type);
    }
}
