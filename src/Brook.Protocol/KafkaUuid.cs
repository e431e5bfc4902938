using System.Buffers.Binary;

namespace Brook.Protocol;

/// <summary>A Kafka UUID: 128 bits sent as two big-endian longs, shown in URL-safe base64 without padding.</summary>
public readonly record struct KafkaUuid(long MostSignificantBits, long LeastSignificantBits)
{
    /// <summary>The all-zero UUID Kafka uses for "no id".</summary>
    public static KafkaUuid Zero => default;

    public bool IsZero => MostSignificantBits == 0 && LeastSignificantBits == 0;

    /// <summary>A random (version 4) UUID that is neither zero nor Kafka's reserved metadata topic id.</summary>
    public static KafkaUuid NewRandom()
    {
        Span<byte> bytes = stackalloc byte[16];
        while (true)
        {
            Random.Shared.NextBytes(bytes);
            bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
            bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
            var id = FromBytes(bytes);
            if (!id.IsZero && id != new KafkaUuid(0, 1)) return id;
        }
    }

    public static KafkaUuid FromBytes(ReadOnlySpan<byte> bytes) =>
        new(BinaryPrimitives.ReadInt64BigEndian(bytes), BinaryPrimitives.ReadInt64BigEndian(bytes[8..]));

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64BigEndian(destination, MostSignificantBits);
        BinaryPrimitives.WriteInt64BigEndian(destination[8..], LeastSignificantBits);
    }

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[16];
        WriteTo(bytes);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static bool TryParse(string? text, out KafkaUuid uuid)
    {
        uuid = default;
        if (text is null || text.Length != 22) return false;
        var padded = text.Replace('-', '+').Replace('_', '/') + "==";
        Span<byte> bytes = stackalloc byte[16];
        if (!Convert.TryFromBase64String(padded, bytes, out var written) || written != 16) return false;
        uuid = FromBytes(bytes);
        return true;
    }
}
