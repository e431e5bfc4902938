namespace Brook.Protocol;

/// <summary>
/// The bytes on the wire do not form a valid message: truncated, a length out of range, a null where none
/// is allowed. The only exception decoding throws on bad input; a server answers it by closing the connection.
/// </summary>
public sealed class ProtocolException : Exception
{
    public ProtocolException(string message) : base(message)
    {
    }

    public ProtocolException(string message, Exception inner) : base(message, inner)
    {
    }
}
