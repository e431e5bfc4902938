using System.Buffers;

namespace Brook.Protocol.Compression;

/// <summary>A write-only stream that appends to an <see cref="IBufferWriter{T}"/>, for stream-based compressors.</summary>
internal sealed class BufferWriterStream(IBufferWriter<byte> destination) : Stream
{
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var span = destination.GetSpan(buffer.Length);
        buffer.CopyTo(span);
        destination.Advance(buffer.Length);
    }

    public override void WriteByte(byte value)
    {
        destination.GetSpan(1)[0] = value;
        destination.Advance(1);
    }
}
