using System.Text.Json;

namespace Retort.Engine.Formats.SafeTensors;

internal static class JsonElementExtensions
{
    /// <summary>TryGetInt64 that answers false instead of throwing for non-numbers.</summary>
    public static bool TryGetInt64Safe(this JsonElement e, out long value)
    {
        value = 0;
        return e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out value);
    }
}
