namespace Retort.Hub.Store;

/// <summary>Turns a MODEL argument into a path: an existing file or folder wins, otherwise a store name.</summary>
public static class ModelResolver
{
    public static string Resolve(string argument, LocalStore store)
    {
        if (File.Exists(argument) || Directory.Exists(argument)) return argument;
        return store.ResolveModelPath(argument) ?? argument;
    }
}
