using Retort.Engine.Formats.Gguf;

namespace Retort.Cli.Tests;

/// <summary>Assertions that two GGUF files hold the same tensors.</summary>
internal static class GgufAssert
{
    /// <summary>Same tensor names, and for each the same type, shape and bytes.</summary>
    public static void SameTensors(GgufFile expected, GgufFile actual)
    {
        Assert.Equal(expected.Tensors.Keys.Order(), actual.Tensors.Keys.Order());
        foreach (var t in expected.TensorList)
        {
            var o = actual.Tensors[t.Name];
            Assert.Equal(t.Type, o.Type);
            Assert.Equal(t.Shape, o.Shape);
            Assert.True(t.AllBytes().SequenceEqual(o.AllBytes()), $"{t.Name}: bytes differ");
        }
    }
}
