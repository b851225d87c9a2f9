using Retort.Engine;
using Retort.Hub.Store;

namespace Retort.Hub.Tests;

public sealed class StoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "retort-store-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    [Fact]
    public void PutListResolveRemove()
    {
        var store = new LocalStore(_root);
        Assert.Empty(store.List());
        Directory.CreateDirectory(Path.Combine(_root, "models", "m"));
        File.WriteAllText(Path.Combine(_root, "models", "m", "model.gguf"), "x");
        store.Put(new StoreEntry("m", "o/m", "models/m", "models/m/model.gguf", 1, 1, DateTimeOffset.UnixEpoch));

        var again = new LocalStore(_root);
        Assert.Single(again.List());
        Assert.Equal(Path.Combine(store.Root, "models/m/model.gguf"), ModelResolver.Resolve("m", again));
        Assert.Empty(Directory.GetFiles(_root, "*.tmp*"));

        again.Remove("m");
        Assert.Empty(again.List());
        Assert.False(Directory.Exists(Path.Combine(_root, "models", "m")));
        Assert.Throws<RetortException>(() => again.Remove("m"));
    }

    [Fact]
    public void ExistingPathWinsOverStoreName()
    {
        var store = new LocalStore(_root);
        Directory.CreateDirectory(_root);
        var file = Path.Combine(_root, "here.gguf");
        File.WriteAllText(file, "x");
        store.Put(new StoreEntry(file, "o/m", "models/m", "models/m/model.gguf", 1, 1, DateTimeOffset.UnixEpoch));
        Assert.Equal(file, ModelResolver.Resolve(file, store));
    }
}
