namespace Brook.Broker;

/// <summary>
/// The exit codes of brook-server when it cannot start (each documented in the README), so scripts and service managers
/// can tell a taken port from a locked data directory without reading the message.
/// </summary>
public enum StartExitCode
{
    /// <summary>Something unforeseen; the message and the debug log say what.</summary>
    Failed = 1,

    /// <summary>A bad argument or setting (unknown option, malformed listener, invalid value).</summary>
    InvalidConfiguration = 2,

    /// <summary>Another process holds the data directory's lock.</summary>
    DataDirectoryLocked = 3,

    /// <summary>The data directory cannot be used: it is a file, cannot be created, or is not writable (read-only file system).</summary>
    DataDirectoryUnusable = 4,

    /// <summary>A Kafka listener cannot bind its address (port in use, address not on this machine).</summary>
    KafkaListenerUnavailable = 5,

    /// <summary>An HTTP listener (console, /metrics, /health) cannot bind its address.</summary>
    HttpListenerUnavailable = 6,
}

/// <summary>
/// A start failure an operator can fix: a one-line message saying what to do, and the exit code the server ends with.
/// The server prints the message alone (no stack trace); embedded callers see an ordinary exception.
/// </summary>
public sealed class FatalStartException : Exception
{
    public FatalStartException(StartExitCode exitCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ExitCode = exitCode;
    }

    public StartExitCode ExitCode { get; }
}
