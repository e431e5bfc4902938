using System.Globalization;
using System.Text;
using Brook.Protocol;

namespace Brook.Broker.Producers;

/// <summary>What InitProducerId hands out: an error, or a producer id with its epoch.</summary>
public readonly record struct ProducerIdAndEpoch(ErrorCode Error, long ProducerId, short Epoch, string? Message = null)
{
    public static ProducerIdAndEpoch Fail(ErrorCode error, string message) => new(error, -1, -1, message);
}

/// <summary>
/// Allocates producer ids. Ids come from a counter that is never reset: on disk, blocks of <see cref="BlockSize"/> ids
/// are reserved by writing the end of the block to <c>&lt;data&gt;/producer-id-block</c> before any id in it is handed
/// out, so after a restart allocation continues past everything that may have been used. In memory nothing is written.
/// Transactional ids (a stable id with epoch bumps) are kept by the transaction coordinator, which takes its ids here.
/// Thread-safety: one lock serializes allocation (InitProducerId is rare).
/// </summary>
public sealed class ProducerIdManager
{
    public const long BlockSize = 1000;
    private const string BlockFileName = "producer-id-block";

    private readonly object _lock = new();
    private readonly string? _directory;
    private long _next;
    private long _blockEnd;

    private ProducerIdManager(string? directory)
    {
        _directory = directory;
        if (directory is null) return;
        var blockPath = Path.Combine(directory, BlockFileName);
        if (File.Exists(blockPath))
        {
            var text = File.ReadAllText(blockPath).Trim();
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var reserved))
                throw new InvalidDataException($"{blockPath} does not hold a producer id.");
            _next = _blockEnd = reserved;
        }
    }

    /// <summary>Opens the manager for a broker: in memory, or under the data directory.</summary>
    public static ProducerIdManager Create(BrokerOptions options)
    {
        if (options.InMemory) return new ProducerIdManager(null);
        Directory.CreateDirectory(options.DataDirectory);
        return new ProducerIdManager(Path.GetFullPath(options.DataDirectory));
    }

    /// <summary>An in-memory manager (tests).</summary>
    public static ProducerIdManager InMemory() => new(null);

    /// <summary>
    /// InitProducerId without a transactional id: every call gets a fresh producer id with epoch 0, whatever id and
    /// epoch the request carries (as Kafka does: the new id leaves nothing to fence).
    /// </summary>
    public ProducerIdAndEpoch NewIdempotentProducer() => new(ErrorCode.None, AllocateProducerId(), 0);

    /// <summary>A producer id never handed out before, on this broker's data.</summary>
    public long AllocateProducerId()
    {
        lock (_lock)
        {
            if (_next >= _blockEnd)
            {
                var end = _blockEnd + BlockSize;
                // Reserved durably before use: a crash never lets an id be handed out twice.
                if (_directory is not null) WriteAtomically(Path.Combine(_directory, BlockFileName), Encoding.ASCII.GetBytes(end.ToString(CultureInfo.InvariantCulture) + "\n"));
                _blockEnd = end;
            }
            return _next++;
        }
    }

    private static void WriteAtomically(string path, byte[] content)
    {
        var temp = path + ".tmp";
        using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write))
        {
            RandomAccess.Write(handle, content, 0);
            RandomAccess.FlushToDisk(handle);
        }
        File.Move(temp, path, overwrite: true);
    }
}
