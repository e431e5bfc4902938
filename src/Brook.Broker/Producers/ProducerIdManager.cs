using System.Globalization;
using System.Text;
using System.Text.Json;
using Brook.Protocol;

namespace Brook.Broker.Producers;

/// <summary>What InitProducerId hands out: an error, or a producer id with its epoch.</summary>
public readonly record struct ProducerIdAndEpoch(ErrorCode Error, long ProducerId, short Epoch, string? Message = null)
{
    public static ProducerIdAndEpoch Fail(ErrorCode error, string message) => new(error, -1, -1, message);
}

/// <summary>
/// Allocates producer ids and keeps the producer id and epoch of each transactional id.
/// Ids come from a counter that is never reset: on disk, blocks of <see cref="BlockSize"/> ids are reserved by
/// writing the end of the block to <c>&lt;data&gt;/producer-id-block</c> before any id in it is handed out, so after a
/// restart allocation continues past everything that may have been used. Transactional ids are kept in
/// <c>&lt;data&gt;/transactional-ids.json</c>, rewritten atomically on each change, and forgotten after
/// transactional.id.expiration.ms without an InitProducerId. In memory nothing is written.
/// Thread-safety: one lock serializes every operation (InitProducerId is rare).
/// </summary>
public sealed class ProducerIdManager
{
    public const long BlockSize = 1000;
    private const string BlockFileName = "producer-id-block";
    private const string TransactionalFileName = "transactional-ids.json";
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private readonly object _lock = new();
    private readonly string? _directory;
    private readonly TimeProvider _time;
    private readonly long _transactionalIdExpirationMs;
    private readonly long _maxTransactionTimeoutMs;
    private readonly Dictionary<string, TransactionalProducer> _transactional;
    private long _next;
    private long _blockEnd;

    private ProducerIdManager(string? directory, TimeProvider time, long transactionalIdExpirationMs, long maxTransactionTimeoutMs)
    {
        _directory = directory;
        _time = time;
        _transactionalIdExpirationMs = transactionalIdExpirationMs;
        _maxTransactionTimeoutMs = maxTransactionTimeoutMs;
        _transactional = new Dictionary<string, TransactionalProducer>(StringComparer.Ordinal);
        if (directory is null) return;
        var blockPath = Path.Combine(directory, BlockFileName);
        if (File.Exists(blockPath))
        {
            var text = File.ReadAllText(blockPath).Trim();
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var reserved))
                throw new InvalidDataException($"{blockPath} does not hold a producer id.");
            _next = _blockEnd = reserved;
        }
        var transactionalPath = Path.Combine(directory, TransactionalFileName);
        if (File.Exists(transactionalPath))
        {
            var stored = JsonSerializer.Deserialize<Dictionary<string, TransactionalProducer>>(File.ReadAllBytes(transactionalPath), JsonOptions) ?? [];
            foreach (var (id, producer) in stored) _transactional[id] = producer;
        }
    }

    /// <summary>Opens the manager for a broker: in memory, or under the data directory.</summary>
    public static ProducerIdManager Create(BrokerOptions options, TimeProvider time)
    {
        var expiration = Config(options, "transactional.id.expiration.ms", 604_800_000L);
        var maxTimeout = Config(options, "transaction.max.timeout.ms", 900_000L);
        if (options.InMemory) return new ProducerIdManager(null, time, expiration, maxTimeout);
        Directory.CreateDirectory(options.DataDirectory);
        return new ProducerIdManager(Path.GetFullPath(options.DataDirectory), time, expiration, maxTimeout);
    }

    /// <summary>An in-memory manager (tests).</summary>
    public static ProducerIdManager InMemory(TimeProvider time) => new(null, time, 604_800_000L, 900_000L);

    /// <summary>
    /// InitProducerId. Without a transactional id every call gets a fresh producer id with epoch 0, whatever id and
    /// epoch the request carries (as Kafka does: the new id leaves nothing to fence). With a transactional id the
    /// id is stable and the epoch goes up by one per call, fencing producers holding the older epoch; when the
    /// epoch is exhausted a new id starts at epoch 0. A request carrying an id and epoch (KIP-360, v3+) must name
    /// the current ones (bumped) or the ones the last call replaced (a retry, answered with the current ones);
    /// anything else is fenced.
    /// </summary>
    public ProducerIdAndEpoch InitProducerId(string? transactionalId, int transactionTimeoutMs, long expectedProducerId, short expectedEpoch)
    {
        lock (_lock)
        {
            if (transactionalId is null) return new ProducerIdAndEpoch(ErrorCode.None, AllocateLocked(), 0);
            if (transactionalId.Length == 0) return ProducerIdAndEpoch.Fail(ErrorCode.InvalidRequest, "The transactional id may not be empty.");
            if (transactionTimeoutMs <= 0 || transactionTimeoutMs > _maxTransactionTimeoutMs)
            {
                return ProducerIdAndEpoch.Fail(ErrorCode.InvalidTransactionTimeout,
                    $"Transaction timeout {transactionTimeoutMs} ms is outside (0, {_maxTransactionTimeoutMs}] (transaction.max.timeout.ms).");
            }
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var changed = RemoveExpiredLocked(now);
            var hasExpected = expectedProducerId >= 0;
            ProducerIdAndEpoch result;
            if (!_transactional.TryGetValue(transactionalId, out var current))
            {
                current = new TransactionalProducer(AllocateLocked(), 0, -1, -1, transactionTimeoutMs, now);
                result = new ProducerIdAndEpoch(ErrorCode.None, current.ProducerId, current.Epoch);
            }
            else if (hasExpected && !(expectedProducerId == current.ProducerId && expectedEpoch == current.Epoch))
            {
                if (expectedProducerId == current.PreviousProducerId && expectedEpoch == current.PreviousEpoch)
                {
                    // The client retried a bump whose response it lost.
                    result = new ProducerIdAndEpoch(ErrorCode.None, current.ProducerId, current.Epoch);
                }
                else
                {
                    if (changed) PersistLocked();
                    return ProducerIdAndEpoch.Fail(ErrorCode.ProducerFenced,
                        $"Producer {expectedProducerId} epoch {expectedEpoch} is not the current one of transactional id '{transactionalId}'.");
                }
            }
            else
            {
                var exhausted = current.Epoch >= short.MaxValue - 1;
                current = exhausted
                    ? new TransactionalProducer(AllocateLocked(), 0, current.ProducerId, current.Epoch, transactionTimeoutMs, now)
                    : new TransactionalProducer(current.ProducerId, (short)(current.Epoch + 1), current.ProducerId, current.Epoch, transactionTimeoutMs, now);
                result = new ProducerIdAndEpoch(ErrorCode.None, current.ProducerId, current.Epoch);
            }
            _transactional[transactionalId] = current with { LastUsedMs = now, TimeoutMs = transactionTimeoutMs };
            PersistLocked();
            return result;
        }
    }

    /// <summary>The current producer id and epoch of a transactional id, if it has one.</summary>
    public (long ProducerId, short Epoch)? Transactional(string transactionalId)
    {
        lock (_lock) return _transactional.TryGetValue(transactionalId, out var p) ? (p.ProducerId, p.Epoch) : null;
    }

    private long AllocateLocked()
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

    private bool RemoveExpiredLocked(long now)
    {
        var expired = _transactional.Where(p => now - p.Value.LastUsedMs >= _transactionalIdExpirationMs).Select(p => p.Key).ToList();
        foreach (var id in expired) _transactional.Remove(id);
        return expired.Count > 0;
    }

    private void PersistLocked()
    {
        if (_directory is null) return;
        WriteAtomically(Path.Combine(_directory, TransactionalFileName), JsonSerializer.SerializeToUtf8Bytes(_transactional, JsonOptions));
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

    private static long Config(BrokerOptions options, string name, long fallback) =>
        options.Configs.TryGetValue(name, out var value) && long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) && parsed > 0
            ? parsed
            : fallback;

    /// <summary>Stored state of one transactional id; Previous* are the values the last InitProducerId replaced.</summary>
    private sealed record TransactionalProducer(long ProducerId, short Epoch, long PreviousProducerId, short PreviousEpoch, int TimeoutMs, long LastUsedMs);
}
