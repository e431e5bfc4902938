using System.Buffers.Binary;

namespace Brook.Fuzz;

/// <summary>
/// Mutations of request frames: bit flips, interesting integers, length-field nudges, huge and overlong varints, byte
/// inserts and deletes, duplicated ranges, splices with another input, truncation, and a swapped API key or version
/// (so one API's bytes meet another decoder). One to four are stacked per input. Mutations favour the body over the
/// header so that most inputs reach a handler.
/// </summary>
public sealed class Mutator(Random random, IReadOnlyList<(short Key, short MinVersion, short MaxVersion)> apis, int maxFrameBytes = 1 << 20)
{
    private static readonly byte[] Interesting8 = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF];
    private static readonly short[] Interesting16 = [0, 1, -1, 2, short.MaxValue, short.MinValue, 0xFF, 0x100];
    private static readonly int[] Interesting32 = [0, 1, -1, 2, int.MaxValue, int.MinValue, 0xFFFF, 0x10000, 1 << 24, 100 * 1024 * 1024];
    private static readonly long[] Interesting64 = [0, 1, -1, -2, long.MaxValue, long.MinValue, int.MaxValue + 1L];

    private static readonly byte[][] Varints =
    [
        [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], // largest 32-bit unsigned varint
        [0xFF, 0xFF, 0xFF, 0xFF, 0x7F], // longer than 32 bits
        [0xFE, 0xFF, 0xFF, 0xFF, 0x07], // int.MaxValue - 1 as an unsigned varint
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], // largest varlong
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], // overlong, never ends in time
        [0x80, 0x80, 0x80, 0x00], // overlong zero
        [0x01], // zigzag -1 / compact null
        [0x00],
    ];

    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> others)
    {
        var data = new List<byte>(input);
        // Mostly one mutation: stacked ones rarely get past the decoder.
        var count = random.Next(4) == 0 ? 2 + random.Next(3) : 1;
        for (var i = 0; i < count; i++) MutateOnce(data, others);
        if (data.Count > maxFrameBytes) data.RemoveRange(maxFrameBytes, data.Count - maxFrameBytes);
        return [.. data];
    }

    private void MutateOnce(List<byte> data, IReadOnlyList<byte[]> others)
    {
        switch (random.Next(14))
        {
            case 0:
                if (data.Count > 0)
                {
                    var position = Position(data);
                    data[position] ^= (byte)(1 << random.Next(8));
                }
                break;
            case 1:
                if (data.Count > 0) data[Position(data)] = Interesting8[random.Next(Interesting8.Length)];
                break;
            case 2:
                Overwrite(data, BigEndian16(Interesting16[random.Next(Interesting16.Length)]));
                break;
            case 3:
                Overwrite(data, BigEndian32(Interesting32[random.Next(Interesting32.Length)]));
                break;
            case 4:
                Overwrite(data, BigEndian64(Interesting64[random.Next(Interesting64.Length)]));
                break;
            case 5:
                NudgeLength(data);
                break;
            case 6:
                var varint = Varints[random.Next(Varints.Length)];
                if (random.Next(2) == 0) Overwrite(data, varint);
                else data.InsertRange(Position(data, allowEnd: true), varint);
                break;
            case 7:
                var inserted = new byte[1 + random.Next(16)];
                random.NextBytes(inserted);
                data.InsertRange(Position(data, allowEnd: true), inserted);
                break;
            case 8:
                if (data.Count > 1)
                {
                    var start = Position(data);
                    data.RemoveRange(start, Math.Min(1 + random.Next(32), data.Count - start));
                }
                break;
            case 9:
                if (data.Count > 1)
                {
                    var start = random.Next(data.Count);
                    var chunk = data.GetRange(start, Math.Min(1 + random.Next(64), data.Count - start));
                    data.InsertRange(Position(data, allowEnd: true), chunk);
                }
                break;
            case 10:
                if (others.Count > 0)
                {
                    var other = others[random.Next(others.Count)];
                    var cut = Position(data, allowEnd: true);
                    var from = random.Next(other.Length + 1);
                    data.RemoveRange(cut, data.Count - cut);
                    data.AddRange(other.AsSpan(from).ToArray());
                }
                break;
            case 11:
                if (data.Count > 0)
                {
                    var keep = random.Next(data.Count);
                    data.RemoveRange(keep, data.Count - keep);
                }
                break;
            case 12:
                // Another version of the same API (or just outside its range): the bytes were written for another layout.
                if (data.Count >= 4)
                {
                    var key = (short)((data[0] << 8) | data[1]);
                    var (min, max) = apis.FirstOrDefault(a => a.Key == key) is { Key: var k } api && k == key ? (api.MinVersion, api.MaxVersion) : ((short)0, (short)20);
                    SetAt(data, 2, BigEndian16((short)random.Next(min - 1, max + 2)));
                }
                break;
            default:
                // Another API's decoder on these bytes; now and then a key nobody serves.
                if (data.Count >= 2) SetAt(data, 0, BigEndian16(random.Next(10) == 0 ? (short)random.Next(-1, 100) : apis[random.Next(apis.Count)].Key));
                break;
        }
    }

    /// <summary>Adds a small delta to what may be a 16- or 32-bit length or count.</summary>
    private void NudgeLength(List<byte> data)
    {
        var wide = random.Next(2) == 0;
        var size = wide ? 4 : 2;
        if (data.Count < size) return;
        var position = Math.Min(Position(data), data.Count - size);
        var bytes = data.GetRange(position, size).ToArray();
        int[] deltas = [-2, -1, 1, 2, 8, 1000, -1000];
        var delta = deltas[random.Next(deltas.Length)];
        if (wide) BinaryPrimitives.WriteInt32BigEndian(bytes, BinaryPrimitives.ReadInt32BigEndian(bytes) + delta);
        else BinaryPrimitives.WriteInt16BigEndian(bytes, (short)(BinaryPrimitives.ReadInt16BigEndian(bytes) + delta));
        SetAt(data, position, bytes);
    }

    private void Overwrite(List<byte> data, byte[] bytes)
    {
        if (data.Count == 0) return;
        SetAt(data, Position(data), bytes);
    }

    private static void SetAt(List<byte> data, int position, byte[] bytes)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            if (position + i < data.Count) data[position + i] = bytes[i];
            else data.Add(bytes[i]);
        }
    }

    /// <summary>A position, in the body (past a typical request header) four times out of five.</summary>
    private int Position(List<byte> data, bool allowEnd = false)
    {
        var limit = data.Count + (allowEnd ? 1 : 0);
        if (limit <= 0) return 0;
        var headerEnd = HeaderLength(data);
        if (headerEnd < data.Count && random.Next(5) != 0) return headerEnd + random.Next(limit - headerEnd);
        return random.Next(limit);
    }

    /// <summary>Where a v1 header (key, version, correlation id, client id) ends, when it parses.</summary>
    private static int HeaderLength(List<byte> data)
    {
        if (data.Count < 10) return data.Count;
        var clientIdLength = (short)((data[8] << 8) | data[9]);
        return Math.Clamp(10 + Math.Max((int)clientIdLength, 0), 0, data.Count);
    }

    private static byte[] BigEndian16(short value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteInt16BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] BigEndian32(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] BigEndian64(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }
}
