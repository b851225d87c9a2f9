using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Retort.Engine.Templates;

/// <summary>Source-generated metadata so JsonNode variables convert without reflection (trimming-safe).</summary>
[JsonSerializable(typeof(JsonNode))]
internal sealed partial class JsonNodeContext : JsonSerializerContext;
