using System.Buffers.Binary;
using Brook.Protocol.Compression;

namespace Brook.Protocol.Records;

/// <summary>One whole record batch (magic 2) as a view of its bytes.</summary>
public readonly struct RecordBatch
{
    public const sbyte CurrentMagic = 2;

    /// <summary>The smallest batchLength field a magic-2 batch can have: the header after the length field.</summary>
    public const int MinBatchLength = RecordBatchHeader.Size - RecordBatchHeader.LogOverhead;

    /// <param name="bytes">Exactly one batch: its length field must match the buffer.</param>
    public RecordBatch(ReadOnlyMemory<byte> bytes)
    {
        var span = bytes.Span;
        if (span.Length < RecordBatchHeader.Size) throw new ProtocolException($"Record batch needs at least {RecordBatchHeader.Size} bytes, got {span.Length}.");
        var header = new RecordBatchHeader(span);
        if (header.Magic != CurrentMagic) throw new ProtocolException($"Record batch magic {header.Magic} is not supported.");
        if (header.TotalSize != span.Length) throw new ProtocolException($"Record batch length {header.BatchLength} does not match the {span.Length} bytes given.");
        Memory = bytes;
    }

    /// <summary>The whole batch, base offset field included.</summary>
    public ReadOnlyMemory<byte> Memory { get; }

    public RecordBatchHeader Header => new(Memory.Span);

    public int SizeInBytes => Memory.Length;

    /// <summary>The record section as stored: compressed when the batch is.</summary>
    public ReadOnlyMemory<byte> RecordsSection => Memory[RecordBatchHeader.Size..];

    /// <summary>
    /// The uncompressed record section: a view of this batch when it is not compressed, otherwise a pooled buffer.
    /// Throws <see cref="ProtocolException"/> on corrupt data, an unknown codec or output above the limit.
    /// </summary>
    public DecompressedRecords DecompressRecords(int maxDecompressedBytes) => DecompressedRecords.Create(Memory, maxDecompressedBytes);
}

/// <summary>
/// The uncompressed record section of a batch; dispose it (once) to return a pooled buffer when one was needed.
/// </summary>
public readonly struct DecompressedRecords : IDisposable
{
    private readonly PooledBuffer? _owner;

    private DecompressedRecords(ReadOnlyMemory<byte> memory, PooledBuffer? owner)
    {
        Memory = memory;
        _owner = owner;
    }

    public ReadOnlyMemory<byte> Memory { get; }

    public ReadOnlySpan<byte> Span => Memory.Span;

    /// <summary>The records, for <c>foreach</c>.</summary>
    public RecordSection Records => new(Memory.Span);

    /// <param name="batch">A whole magic-2 batch.</param>
    /// <param name="maxDecompressedBytes">The most bytes the record section may take once uncompressed.</param>
    public static DecompressedRecords Create(ReadOnlyMemory<byte> batch, int maxDecompressedBytes)
    {
        var header = new RecordBatchHeader(batch.Span);
        if (header.Magic != RecordBatch.CurrentMagic) throw new ProtocolException($"Record batch magic {header.Magic} is not supported.");
        if (header.TotalSize > batch.Length || header.BatchLength < RecordBatch.MinBatchLength)
            throw new ProtocolException($"Record batch length {header.BatchLength} does not fit the {batch.Length} bytes given.");
        var section = batch[RecordBatchHeader.Size..header.TotalSize];
        var compression = header.Compression;
        if (compression == CompressionType.None)
        {
            if (section.Length > maxDecompressedBytes) throw new ProtocolException($"Record section of {section.Length} bytes exceeds the limit of {maxDecompressedBytes} bytes.");
            return new DecompressedRecords(section, null);
        }
        var buffer = CompressionCodecs.Decompress(compression, section, maxDecompressedBytes);
        return new DecompressedRecords(buffer.Memory, buffer);
    }

    public void Dispose() => _owner?.Dispose();
}

/// <summary>
/// Walks the batches of a buffer holding several concatenated batches (a Fetch response's records, a log segment
/// read). A trailing incomplete batch, which Fetch responses may end with, ends the walk without an error and is
/// reported by <see cref="TrailingPartialBytes"/>. A batch whose length or magic is impossible throws
/// <see cref="ProtocolException"/>. CRCs are not checked here.
/// <c>foreach</c> walks a copy of this struct; call <see cref="MoveNext"/> directly to read the trailing-bytes report afterwards.
/// </summary>
public struct RecordBatchEnumerator
{
    private readonly ReadOnlyMemory<byte> _buffer;
    private int _position;
    private RecordBatch _current;

    public RecordBatchEnumerator(ReadOnlyMemory<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
        _current = default;
    }

    public readonly RecordBatch Current => _current;

    /// <summary>Offset in the buffer of the next batch, or of the trailing partial batch once the walk ended.</summary>
    public readonly int Position => _position;

    /// <summary>Bytes left after the last whole batch: nonzero when the buffer ends inside a batch.</summary>
    public readonly int TrailingPartialBytes => _buffer.Length - _position;

    public readonly bool EndedWithPartialBatch => TrailingPartialBytes > 0;

    public bool MoveNext()
    {
        var rest = _buffer.Span[_position..];
        if (rest.Length < RecordBatchHeader.LogOverhead) return false;
        var batchLength = BinaryPrimitives.ReadInt32BigEndian(rest[RecordBatchHeader.LengthPosition..]);
        if (batchLength < RecordBatch.MinBatchLength)
            throw new ProtocolException($"Record batch at offset {_position} declares length {batchLength}, below the minimum of {RecordBatch.MinBatchLength}.");
        if (rest.Length - RecordBatchHeader.LogOverhead < batchLength) return false;
        var magic = (sbyte)rest[RecordBatchHeader.MagicPosition];
        if (magic != RecordBatch.CurrentMagic) throw new ProtocolException($"Record batch at offset {_position} has magic {magic}; only magic 2 is supported.");
        var total = batchLength + RecordBatchHeader.LogOverhead;
        _current = new RecordBatch(_buffer.Slice(_position, total));
        _position += total;
        return true;
    }

    public readonly RecordBatchEnumerator GetEnumerator() => this;
}
