using System.Text;

namespace Brook.Protocol.Records;

/// <summary>
/// The records of an uncompressed record section (the bytes after the 61-byte batch header, decompressed when
/// the batch is compressed). Enumerate with <c>foreach</c>; each <see cref="Record"/> is a view of the section.
/// </summary>
public readonly ref struct RecordSection(ReadOnlySpan<byte> bytes)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;

    public ReadOnlySpan<byte> Bytes => _bytes;

    public RecordEnumerator GetEnumerator() => new(_bytes);
}

/// <summary>
/// Walks records one at a time without allocating. Each record is fully parsed and bounds-checked (headers
/// included) before it is returned; malformed data throws <see cref="ProtocolException"/>.
/// </summary>
public ref struct RecordEnumerator
{
    private readonly ReadOnlySpan<byte> _bytes;
    private int _position;
    private Record _current;

    public RecordEnumerator(ReadOnlySpan<byte> bytes)
    {
        _bytes = bytes;
        _position = 0;
        _current = default;
    }

    public readonly Record Current => _current;

    /// <summary>Bytes consumed so far; equals the section length once enumeration has finished.</summary>
    public readonly int Position => _position;

    public bool MoveNext()
    {
        if (_position >= _bytes.Length) return false;
        var rest = new SpanReader(_bytes[_position..]);
        var length = rest.ReadVarint();
        if (length < 0 || length > rest.Remaining)
            throw new ProtocolException($"Record at offset {_position} declares length {length} with {rest.Remaining} bytes left.");
        var start = _position;
        var bodyStart = _position + rest.Position;
        _position = bodyStart + length;
        _current = Record.Parse(_bytes[start.._position], _bytes.Slice(bodyStart, length));
        return true;
    }

    public readonly RecordEnumerator GetEnumerator() => this;
}

/// <summary>One record of a batch, as a view of its bytes.</summary>
public readonly ref struct Record
{
    private readonly ReadOnlySpan<byte> _headers;

    private Record(ReadOnlySpan<byte> raw, sbyte attributes, long timestampDelta, int offsetDelta,
        ReadOnlySpan<byte> key, bool keyIsNull, ReadOnlySpan<byte> value, bool valueIsNull, int headerCount, ReadOnlySpan<byte> headers)
    {
        Raw = raw;
        Attributes = attributes;
        TimestampDelta = timestampDelta;
        OffsetDelta = offsetDelta;
        Key = key;
        KeyIsNull = keyIsNull;
        Value = value;
        ValueIsNull = valueIsNull;
        HeaderCount = headerCount;
        _headers = headers;
    }

    /// <summary>The whole encoded record including its length prefix, for copying it unchanged.</summary>
    public ReadOnlySpan<byte> Raw { get; }

    /// <summary>Record attributes; unused by Kafka so far and written as zero.</summary>
    public sbyte Attributes { get; }

    public long TimestampDelta { get; }

    public int OffsetDelta { get; }

    public ReadOnlySpan<byte> Key { get; }

    public bool KeyIsNull { get; }

    public ReadOnlySpan<byte> Value { get; }

    public bool ValueIsNull { get; }

    public int HeaderCount { get; }

    public RecordHeaderEnumerator Headers => new(_headers, HeaderCount);

    public long Offset(long baseOffset) => baseOffset + OffsetDelta;

    public long Timestamp(long baseTimestamp) => baseTimestamp + TimestampDelta;

    /// <param name="raw">The record with its length prefix.</param>
    /// <param name="body">The bytes after the length prefix.</param>
    internal static Record Parse(ReadOnlySpan<byte> raw, ReadOnlySpan<byte> body)
    {
        var reader = new SpanReader(body);
        var attributes = (sbyte)reader.ReadByte();
        var timestampDelta = reader.ReadVarlong();
        var offsetDelta = reader.ReadVarint();
        var key = reader.ReadSizedBytes(nullable: true, "Record key", out var keyIsNull);
        var value = reader.ReadSizedBytes(nullable: true, "Record value", out var valueIsNull);
        var headerCount = reader.ReadVarint();
        // Every header takes at least two bytes (two length varints), which bounds a hostile count.
        if (headerCount < 0 || headerCount > reader.Remaining / 2)
            throw new ProtocolException($"Record header count {headerCount} is invalid for the {reader.Remaining} bytes left.");
        var headersStart = reader.Position;
        for (var i = 0; i < headerCount; i++)
        {
            reader.ReadSizedBytes(nullable: false, "Header key", out _);
            reader.ReadSizedBytes(nullable: true, "Header value", out _);
        }
        if (!reader.End) throw new ProtocolException($"Record has {reader.Remaining} bytes beyond its headers.");
        return new Record(raw, attributes, timestampDelta, offsetDelta, key, keyIsNull, value, valueIsNull, headerCount, body[headersStart..]);
    }
}

/// <summary>Walks the headers of a record (already validated when the record was parsed).</summary>
public ref struct RecordHeaderEnumerator
{
    private SpanReader _reader;
    private int _remaining;
    private RecordHeaderView _current;

    internal RecordHeaderEnumerator(ReadOnlySpan<byte> headers, int count)
    {
        _reader = new SpanReader(headers);
        _remaining = count;
        _current = default;
    }

    public readonly RecordHeaderView Current => _current;

    public bool MoveNext()
    {
        if (_remaining <= 0) return false;
        _remaining--;
        var key = _reader.ReadSizedBytes(nullable: false, "Header key", out _);
        var value = _reader.ReadSizedBytes(nullable: true, "Header value", out var valueIsNull);
        _current = new RecordHeaderView(key, value, valueIsNull);
        return true;
    }

    public readonly RecordHeaderEnumerator GetEnumerator() => this;
}

/// <summary>A record header as a view: the key is UTF-8, the value may be null.</summary>
public readonly ref struct RecordHeaderView(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool valueIsNull)
{
    public ReadOnlySpan<byte> Key { get; } = key;

    public ReadOnlySpan<byte> Value { get; } = value;

    public bool ValueIsNull { get; } = valueIsNull;

    /// <summary>Decodes the key; Kafka clients decode header keys leniently, so invalid UTF-8 becomes replacement characters.</summary>
    public string GetKeyString() => Encoding.UTF8.GetString(Key);
}
