using Retort.Hub.Pull;

namespace Retort.Hub.Store;

/// <summary>Turns a MODEL argument into a path: an existing file or folder wins, otherwise a store name.</summary>
public static class ModelResolver
{
    public static string Resolve(string argument, LocalStore store)
    {
        if (File.Exists(argument) || Directory.Exists(argument)) return argument;
        return store.ResolveModelPath(argument) ?? argument;
    }

    /// <summary>True when a MODEL argument that is neither a path nor a store name should be pulled from the hub.</summary>
    public static bool IsHubName(string argument) => !LooksLikePath(argument) && ModelPuller.IsHubName(argument);

    /// <summary>Arguments that are meant as files (a missing ./model.gguf must say "not found", not go to the network).</summary>
    public static bool LooksLikePath(string argument) =>
        argument.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || argument.StartsWith('.') || argument.StartsWith('/')
        || argument.StartsWith('~') || argument.Contains('\\') || Path.IsPathRooted(argument);
}
