using Brook.Protocol;

namespace Brook.Broker.Fetching;

/// <summary>One partition a fetch reads: where from and how much.</summary>
public sealed class FetchTarget(string topic, KafkaUuid topicId, int partition)
{
    public string Topic { get; } = topic;
    public KafkaUuid TopicId { get; } = topicId;
    public int Partition { get; } = partition;
    public long FetchOffset { get; set; }
    public int MaxBytes { get; set; }

    // What the session last told the client, so incremental responses can leave out unchanged partitions.
    public long SentHighWatermark { get; set; } = -1;
    public long SentLastStableOffset { get; set; } = -1;
    public long SentLogStartOffset { get; set; } = -1;
    public bool Sent { get; set; }
}

/// <summary>
/// A KIP-227 incremental fetch session: the partitions a client fetches, so later requests only name what changed
/// and responses only carry partitions with news. Not thread-safe: a session is used by one request at a time.
/// </summary>
public sealed class FetchSession(int id)
{
    public int Id { get; } = id;

    /// <summary>The epoch the next incremental request must carry.</summary>
    public int NextEpoch { get; set; } = 1;

    /// <summary>Partitions in the order they joined the session (responses keep that order).</summary>
    public List<FetchTarget> Partitions { get; } = [];

    public long LastUsedMs { get; set; }

    public FetchTarget? Find(string topic, KafkaUuid topicId, int partition, bool byId) =>
        Partitions.Find(p => p.Partition == partition && (byId ? p.TopicId == topicId : p.Topic == topic));
}

/// <summary>
/// Holds fetch sessions (max.incremental.fetch.session.cache.slots, default 1000). When full, the least recently used
/// session is evicted; its client gets FETCH_SESSION_ID_NOT_FOUND next time and starts a new session.
/// Thread-safety: all members lock the cache.
/// </summary>
public sealed class FetchSessionCache(BrokerConfig config, TimeProvider time)
{
    private readonly Dictionary<int, FetchSession> _sessions = [];
    private readonly Lock _lock = new();

    public int Capacity { get; } = config.GetInt("max.incremental.fetch.session.cache.slots", 1000);

    public int Count
    {
        get
        {
            lock (_lock) return _sessions.Count;
        }
    }

    /// <summary>A new session, or null when sessions are disabled (capacity 0).</summary>
    public FetchSession? Create()
    {
        if (Capacity <= 0) return null;
        lock (_lock)
        {
            if (_sessions.Count >= Capacity)
            {
                var oldest = _sessions.Values.MinBy(s => s.LastUsedMs)!;
                _sessions.Remove(oldest.Id);
            }
            int id;
            do id = Random.Shared.Next(1, int.MaxValue);
            while (_sessions.ContainsKey(id));
            var session = new FetchSession(id) { LastUsedMs = time.GetUtcNow().ToUnixTimeMilliseconds() };
            _sessions[id] = session;
            return session;
        }
    }

    public FetchSession? Get(int id)
    {
        lock (_lock)
        {
            if (!_sessions.TryGetValue(id, out var session)) return null;
            session.LastUsedMs = time.GetUtcNow().ToUnixTimeMilliseconds();
            return session;
        }
    }

    public void Remove(int id)
    {
        lock (_lock) _sessions.Remove(id);
    }
}
