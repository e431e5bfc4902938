using System.Collections;
using System.Reflection;

namespace Brook.Protocol.Tests.Messages;

/// <summary>
/// Populates every settable property of a generated message with random values, recursing into nested
/// structs and lists, so that round trips exercise every field the generator emits. Deterministic per seed.
/// </summary>
internal sealed class MessageFiller
{
    private const int MaxDepth = 6;

    // Non-ASCII on purpose: lengths on the wire count UTF-8 bytes, not chars.
    private static readonly string[] Words = ["", "a", "topic-1", "grüße", "日本語", "🚀x", "__consumer_offsets", "ÿ\u0001"];

    private readonly Random _random;
    private readonly NullabilityInfoContext _nullability = new();

    public MessageFiller(int seed) => _random = new Random(seed);

    public T Fill<T>(T target)
        where T : notnull
    {
        FillObject(target, 0);
        return target;
    }

    private void FillObject(object target, int depth)
    {
        foreach (var property in target.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            // Unknown tagged fields are the reader's to collect; injecting them is a separate test.
            if (!property.CanWrite || property.Name == "UnknownTaggedFields") continue;
            var nullable = _nullability.Create(property).WriteState == NullabilityState.Nullable;
            property.SetValue(target, Value(property.PropertyType, nullable, depth));
        }
    }

    private object? Value(Type type, bool nullable, int depth)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            if (_random.Next(4) == 0) return null;
            type = underlying;
        }
        else if (nullable && _random.Next(4) == 0)
        {
            return null;
        }

        if (type == typeof(bool)) return _random.Next(2) == 1;
        if (type == typeof(sbyte)) return (sbyte)_random.Next(sbyte.MinValue, sbyte.MaxValue + 1);
        if (type == typeof(short)) return (short)_random.Next(short.MinValue, short.MaxValue + 1);
        if (type == typeof(ushort)) return (ushort)_random.Next(ushort.MaxValue + 1);
        if (type == typeof(int)) return Interesting(_random.Next(), int.MinValue, int.MaxValue, -1, 0);
        if (type == typeof(uint)) return (uint)_random.NextInt64(uint.MaxValue + 1L);
        if (type == typeof(long)) return Interesting(_random.NextInt64(long.MinValue, long.MaxValue), long.MinValue, long.MaxValue, -1L, 0L);
        if (type == typeof(double)) return (_random.NextDouble() - 0.5) * 1e6;
        if (type == typeof(string)) return Words[_random.Next(Words.Length)] + (_random.Next(2) == 0 ? "" : _random.Next(1000).ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (type == typeof(byte[])) return RandomBytes();
        if (type == typeof(ReadOnlyMemory<byte>)) return new ReadOnlyMemory<byte>(RandomBytes());
        if (type == typeof(KafkaUuid)) return new KafkaUuid(_random.NextInt64(long.MinValue, long.MaxValue), _random.NextInt64(long.MinValue, long.MaxValue));
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            var list = (IList)Activator.CreateInstance(type)!;
            var count = depth >= MaxDepth ? 0 : _random.Next(4);
            var element = type.GetGenericArguments()[0];
            for (var i = 0; i < count; i++) list.Add(Value(element, nullable: false, depth + 1));
            return list;
        }
        if (typeof(IProtocolStruct).IsAssignableFrom(type))
        {
            var instance = Activator.CreateInstance(type)!;
            if (depth < MaxDepth) FillObject(instance, depth + 1);
            return instance;
        }
        throw new NotSupportedException($"The filler does not know how to make a {type}.");
    }

    private T Interesting<T>(T random, params T[] edges) => _random.Next(5) == 0 ? edges[_random.Next(edges.Length)] : random;

    private byte[] RandomBytes()
    {
        var bytes = new byte[_random.Next(0, 40)];
        _random.NextBytes(bytes);
        return bytes;
    }
}
