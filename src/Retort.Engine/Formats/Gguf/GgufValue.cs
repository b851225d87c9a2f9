using System.Globalization;

namespace Retort.Engine.Formats.Gguf;

/// <summary>
/// One GGUF metadata value. Scalars hold the matching CLR value (byte, sbyte, ushort, short, uint,
/// int, float, bool, string, ulong, long, double). Arrays hold a typed CLR array of their element
/// type (byte[], ..., string[]), or a <see cref="GgufValue"/>[] of arrays when the elements are
/// themselves arrays; <see cref="ElementType"/> says which.
/// </summary>
public sealed class GgufValue : IEquatable<GgufValue>
{
    private GgufValue(GgufValueType type, GgufValueType? elementType, object value)
    {
        Type = type;
        ElementType = elementType;
        Value = value;
    }

    public GgufValueType Type { get; }

    /// <summary>The element type of an array; null for scalars.</summary>
    public GgufValueType? ElementType { get; }

    public object Value { get; }

    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>Element count of an array, 0 for a scalar.</summary>
    public int ArrayLength => Value is Array a && IsArray ? a.Length : 0;

    public static GgufValue Of(byte v) => new(GgufValueType.UInt8, null, v);
    public static GgufValue Of(sbyte v) => new(GgufValueType.Int8, null, v);
    public static GgufValue Of(ushort v) => new(GgufValueType.UInt16, null, v);
    public static GgufValue Of(short v) => new(GgufValueType.Int16, null, v);
    public static GgufValue Of(uint v) => new(GgufValueType.UInt32, null, v);
    public static GgufValue Of(int v) => new(GgufValueType.Int32, null, v);
    public static GgufValue Of(float v) => new(GgufValueType.Float32, null, v);
    public static GgufValue Of(bool v) => new(GgufValueType.Bool, null, v);
    public static GgufValue Of(string v) => new(GgufValueType.String, null, v ?? throw new ArgumentNullException(nameof(v)));
    public static GgufValue Of(ulong v) => new(GgufValueType.UInt64, null, v);
    public static GgufValue Of(long v) => new(GgufValueType.Int64, null, v);
    public static GgufValue Of(double v) => new(GgufValueType.Float64, null, v);

    public static GgufValue Of(byte[] v) => Arr(GgufValueType.UInt8, v);
    public static GgufValue Of(sbyte[] v) => Arr(GgufValueType.Int8, v);
    public static GgufValue Of(ushort[] v) => Arr(GgufValueType.UInt16, v);
    public static GgufValue Of(short[] v) => Arr(GgufValueType.Int16, v);
    public static GgufValue Of(uint[] v) => Arr(GgufValueType.UInt32, v);
    public static GgufValue Of(int[] v) => Arr(GgufValueType.Int32, v);
    public static GgufValue Of(float[] v) => Arr(GgufValueType.Float32, v);
    public static GgufValue Of(bool[] v) => Arr(GgufValueType.Bool, v);
    public static GgufValue Of(string[] v)
    {
        ArgumentNullException.ThrowIfNull(v);
        foreach (string s in v) ArgumentNullException.ThrowIfNull(s, nameof(v));
        return Arr(GgufValueType.String, v);
    }
    public static GgufValue Of(ulong[] v) => Arr(GgufValueType.UInt64, v);
    public static GgufValue Of(long[] v) => Arr(GgufValueType.Int64, v);
    public static GgufValue Of(double[] v) => Arr(GgufValueType.Float64, v);

    /// <summary>An array of arrays; every element must itself be an array value.</summary>
    public static GgufValue OfArrays(GgufValue[] arrays)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        foreach (GgufValue a in arrays)
        {
            ArgumentNullException.ThrowIfNull(a, nameof(arrays));
            if (!a.IsArray) throw new ArgumentException("every element of an array of arrays must be an array", nameof(arrays));
        }
        return new GgufValue(GgufValueType.Array, GgufValueType.Array, arrays);
    }

    private static GgufValue Arr(GgufValueType elementType, Array v) =>
        new(GgufValueType.Array, elementType, v ?? throw new ArgumentNullException(nameof(v)));

    /// <summary>The value as a 64-bit integer when it is any integer type that fits; else null.</summary>
    public long? AsInteger() => Value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        _ => null,
    };

    /// <summary>The value as a double when it is any float or integer type; else null.</summary>
    public double? AsDouble() => Value switch
    {
        float v => v,
        double v => v,
        ulong v => v,
        _ => AsInteger(),
    };

    public bool Equals(GgufValue? other)
    {
        if (other is null) return false;
        if (ReferenceEquals(this, other)) return true;
        if (Type != other.Type || ElementType != other.ElementType) return false;
        if (!IsArray) return ScalarEquals(Value, other.Value);
        var a = (Array)Value;
        var b = (Array)other.Value;
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
        {
            object? x = a.GetValue(i), y = b.GetValue(i);
            bool same = x is GgufValue gx ? gx.Equals(y as GgufValue) : ScalarEquals(x!, y!);
            if (!same) return false;
        }
        return true;
    }

    // Floats compare by bits so a round trip that preserves NaN payloads or -0 counts as equal.
    private static bool ScalarEquals(object x, object y) => (x, y) switch
    {
        (float a, float b) => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b),
        (double a, double b) => BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b),
        _ => x.Equals(y),
    };

    public override bool Equals(object? obj) => Equals(obj as GgufValue);

    public override int GetHashCode() => HashCode.Combine(Type, ElementType, IsArray ? ArrayLength : Value.GetHashCode());

    public override string ToString()
    {
        if (!IsArray) return Convert.ToString(Value, CultureInfo.InvariantCulture) ?? "";
        return $"{ElementType}[{ArrayLength}]";
    }
}
