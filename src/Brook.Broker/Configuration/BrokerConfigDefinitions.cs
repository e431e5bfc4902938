using System.Globalization;
using Brook.Storage;

namespace Brook.Broker.Configuration;

/// <summary>Whether and where a broker config may change at run time, as Kafka's dynamic broker configs say.</summary>
public enum BrokerConfigScope
{
    /// <summary>Read at start only: changed in the configuration file and a restart.</summary>
    ReadOnly,

    /// <summary>Changeable for this broker (entity name "1") but not as a cluster-wide default.</summary>
    PerBroker,

    /// <summary>Changeable for this broker and as the cluster-wide default (empty entity name).</summary>
    ClusterWide,
}

/// <summary>One broker config: its Kafka name, type, default (as Kafka prints it, null for none), scope, validation and documentation.</summary>
public sealed class BrokerConfigDefinition
{
    private readonly Func<string, string?> _validate;

    internal BrokerConfigDefinition(string name, ConfigValueType type, string? defaultValue, BrokerConfigScope scope, Func<string, string?> validate, string documentation, bool sensitive)
    {
        Name = name;
        Type = type;
        DefaultValue = defaultValue;
        Scope = scope;
        _validate = validate;
        Documentation = documentation;
        IsSensitive = sensitive;
    }

    public string Name { get; }

    public ConfigValueType Type { get; }

    /// <summary>The value in force when nothing sets it, or null when it has none (Kafka lists no DEFAULT_CONFIG synonym then).</summary>
    public string? DefaultValue { get; }

    public BrokerConfigScope Scope { get; }

    public string Documentation { get; }

    /// <summary>Passwords and keys: DescribeConfigs shows no value for them.</summary>
    public bool IsSensitive { get; }

    public bool IsDynamic => Scope != BrokerConfigScope.ReadOnly;

    /// <summary>Null when <paramref name="value"/> is acceptable, else a message saying why not.</summary>
    public string? Validate(string value) => _validate(value.Trim());
}

/// <summary>
/// Every broker setting Brook knows, by Kafka name: the broker-level names of topic configs (log.retention.hours, ...),
/// the broker's own settings, security settings (also as listener.name.NAME.KEY), and Kafka settings Brook accepts
/// without using (thread counts, replication factors of a single node), so a Kafka server.properties still starts.
/// Used to refuse unknown names and bad values at start, and by DescribeConfigs and the dynamic config APIs.
/// </summary>
public static class BrokerConfigDefinitions
{
    private const string IntMax = "2147483647";
    private const long HourMs = 3_600_000;

    private static readonly BrokerConfigDefinition[] Definitions = Build();

    private static readonly Dictionary<string, BrokerConfigDefinition> ByName = Definitions.ToDictionary(d => d.Name, StringComparer.Ordinal);

    /// <summary>Settings that may be given per listener as listener.name.NAME.KEY.</summary>
    private static readonly HashSet<string> ListenerScoped = new(StringComparer.Ordinal)
    {
        "sasl.enabled.mechanisms", "sasl.plain.users", "ssl.client.auth", "ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password",
        "ssl.key.location", "ssl.key.password", "ssl.keystore.certificate.chain", "ssl.keystore.key", "ssl.truststore.type",
        "ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.certificates", "ssl.principal.mapping.rules",
        "connection.failed.authentication.delay.ms", "sasl.server.max.receive.size", "max.connections",
    };

    /// <summary>
    /// Key and trust store settings that, given for one listener (listener.name.NAME.KEY), change at run time for this
    /// broker: new connections get the new certificate, as in Kafka (which takes dynamic SSL settings only per listener).
    /// </summary>
    public static readonly IReadOnlySet<string> ReloadableListenerKeys = new HashSet<string>(StringComparer.Ordinal)
    {
        "ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.key.location", "ssl.key.password",
        "ssl.keystore.certificate.chain", "ssl.keystore.key", "ssl.truststore.type", "ssl.truststore.location",
        "ssl.truststore.password", "ssl.truststore.certificates",
    };

    private static readonly Dictionary<string, BrokerConfigDefinition> PerListener = ReloadableListenerKeys.ToDictionary(k => k, k =>
    {
        var d = ByName[k];
        return new BrokerConfigDefinition(d.Name, d.Type, d.DefaultValue, BrokerConfigScope.PerBroker, d.Validate, d.Documentation, d.IsSensitive);
    }, StringComparer.Ordinal);

    /// <summary>Every known broker config, sorted by name.</summary>
    public static IReadOnlyList<BrokerConfigDefinition> All => Definitions;

    /// <summary>The definition of <paramref name="name"/>; a listener.name.NAME.KEY setting resolves to KEY's.</summary>
    public static BrokerConfigDefinition? Find(string name)
    {
        if (ByName.TryGetValue(name, out var definition)) return definition;
        if (ListenerKey(name) is not { } key || !ListenerScoped.Contains(key)) return null;
        return PerListener.GetValueOrDefault(key) ?? ByName.GetValueOrDefault(key);
    }

    /// <summary>Every setting in <paramref name="configs"/> checked by name and value; the first problem, or null when all are valid.</summary>
    public static string? ValidateAll(IEnumerable<KeyValuePair<string, string>> configs)
    {
        foreach (var (name, value) in configs.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            if (Validate(name, value) is { } error) return error;
        }
        return null;
    }

    /// <summary>Null when <paramref name="name"/> = <paramref name="value"/> is a known setting with a valid value, else the reason (with a suggestion for a misspelt name).</summary>
    public static string? Validate(string name, string value)
    {
        var definition = Find(name);
        if (definition is null)
        {
            var suggestion = Suggest(name);
            return suggestion is null ? $"Unknown config '{name}'." : $"Unknown config '{name}': did you mean {suggestion}?";
        }
        var error = definition.Validate(value);
        return error is null ? null : $"Invalid value '{value}' for config {name}: {error}";
    }

    /// <summary>The known name nearest to <paramref name="name"/> when it is close enough to be a typo of it.</summary>
    public static string? Suggest(string name)
    {
        var lookup = ListenerKey(name) ?? name;
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var definition in Definitions)
        {
            var distance = Distance(lookup, definition.Name);
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = definition.Name;
            }
        }
        // A few edits, or a name that differs only in a prefix or a suffix (log.retention.hour vs log.retention.hours).
        var allowed = Math.Max(2, lookup.Length / 6);
        if (best is null || bestDistance > allowed) return null;
        return lookup == name ? best : name[..^lookup.Length] + best;
    }

    private static string? ListenerKey(string name)
    {
        const string prefix = "listener.name.";
        if (!name.StartsWith(prefix, StringComparison.Ordinal)) return null;
        var dot = name.IndexOf('.', prefix.Length);
        return dot < 0 || dot == name.Length - 1 ? null : name[(dot + 1)..];
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    private static BrokerConfigDefinition[] Build()
    {
        var all = new Dictionary<string, BrokerConfigDefinition>(StringComparer.Ordinal);
        void Add(string name, ConfigValueType type, string? defaultValue, BrokerConfigScope scope, Func<string, string?> validate, string documentation, bool sensitive = false) =>
            all[name] = new BrokerConfigDefinition(name, type, defaultValue, scope, validate, documentation, sensitive);

        // The broker-level names of topic configs: the cluster's defaults for every topic, dynamic as in Kafka.
        foreach (var topic in TopicConfigs.All)
        {
            foreach (var synonym in topic.BrokerSynonyms)
            {
                if (synonym.Multiplier == 1)
                {
                    // log.retention.ms has no default of its own: log.retention.hours supplies it.
                    var hasCoarserSynonym = topic.BrokerSynonyms.Any(s => s.Multiplier != 1);
                    Add(synonym.Name, topic.Type, hasCoarserSynonym ? null : topic.DefaultValue, BrokerConfigScope.ClusterWide, topic.Validate,
                        $"Default of the topic config {topic.Name}. {topic.Documentation}");
                }
                else
                {
                    var fallback = synonym.Multiplier == HourMs && long.TryParse(topic.DefaultValue, CultureInfo.InvariantCulture, out var ms)
                        ? (ms / HourMs).ToString(CultureInfo.InvariantCulture) : null;
                    Add(synonym.Name, ConfigValueType.Int, fallback, BrokerConfigScope.ClusterWide, v => IntAtLeast(v, -1),
                        $"Default of the topic config {topic.Name}, in {(synonym.Multiplier == HourMs ? "hours" : "minutes")}. {topic.Documentation}");
                }
            }
        }

        const BrokerConfigScope ro = BrokerConfigScope.ReadOnly;
        const BrokerConfigScope cluster = BrokerConfigScope.ClusterWide;

        // The node and its listeners.
        Add("node.id", ConfigValueType.Int, "1", ro, v => IntAtLeast(v, 0), "This broker's id (kept in meta.properties).");
        Add("broker.id", ConfigValueType.Int, "1", ro, v => IntAtLeast(v, 0), "This broker's id (kept in meta.properties).");
        Add("listeners", ConfigValueType.String, "PLAINTEXT://127.0.0.1:9092", ro, Listeners, "NAME://HOST:PORT,... to accept Kafka connections on.");
        Add("advertised.listeners", ConfigValueType.String, null, ro, Listeners, "What clients of each listener are told to connect to.");
        Add("listener.security.protocol.map", ConfigValueType.String, "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", ro, Any,
            "NAME:PROTOCOL,... mapping listener names to security protocols.");
        Add("log.dirs", ConfigValueType.String, null, ro, Any, "The data directory (the first entry is used).");
        Add("log.dir", ConfigValueType.String, "data", ro, Any, "The data directory when log.dirs is not set.");
        Add("cluster.id", ConfigValueType.String, null, ro, Any, "Accepted; the cluster id is kept in meta.properties.");

        // Topics.
        Add("auto.create.topics.enable", ConfigValueType.Boolean, "true", ro, Boolean, "Create a topic when a client first asks for it by name.");
        Add("num.partitions", ConfigValueType.Int, "1", ro, v => IntAtLeast(v, 1), "Partitions of an automatically created topic.");
        Add("default.replication.factor", ConfigValueType.Int, "1", ro, v => IntAtLeast(v, 1), "Replication factor of automatically created topics (a single node keeps one replica).");
        Add("delete.topic.enable", ConfigValueType.Boolean, "true", ro, Boolean, "Accepted; topics can always be deleted.");
        Add("producer.id.expiration.ms", ConfigValueType.Int, "86400000", ro, v => IntAtLeast(v, 1), "How long an idle producer id's state is kept.");
        Add("max.incremental.fetch.session.cache.slots", ConfigValueType.Int, "1000", ro, v => IntAtLeast(v, 0), "Most incremental fetch sessions kept.");
        Add(DiskLogStore.PageCacheRetainBytesConfig, ConfigValueType.Long, DiskLogStore.DefaultPageCacheRetainBytes.ToString(CultureInfo.InvariantCulture), ro,
            v => LongAtLeast(v, -1), "Brook: bytes of each active segment kept in the page cache after an fsync; -1 leaves it to the kernel.");
        Add("log.cleaner.threads", ConfigValueType.Int, "1", cluster, v => IntAtLeast(v, 0), "Threads compacting logs (Brook compacts on its background loop).");
        Add("log.cleaner.enable", ConfigValueType.Boolean, "true", ro, Boolean, "Accepted; compaction is always on for compacted topics.");
        Add("log.cleaner.dedupe.buffer.size", ConfigValueType.Long, "134217728", cluster, v => LongAtLeast(v, 0), "Accepted; memory for compaction's key map.");
        Add("log.cleaner.io.buffer.size", ConfigValueType.Int, "524288", cluster, v => IntAtLeast(v, 0), "Accepted; compaction I/O buffer.");
        Add("log.cleaner.io.max.bytes.per.second", ConfigValueType.Double, "1.7976931348623157E308", cluster, v => DoubleAtLeast(v, 0), "Accepted; compaction I/O throttle.");
        Add("log.cleaner.backoff.ms", ConfigValueType.Long, "15000", cluster, v => LongAtLeast(v, 0), "Accepted; idle time between compaction checks.");
        Add("log.retention.check.interval.ms", ConfigValueType.Long, "300000", ro, v => LongAtLeast(v, 1), "Accepted; retention runs on the background loop.");

        // Network bounds.
        Add("max.connections", ConfigValueType.Int, "10000", cluster, v => IntAtLeast(v, 1), "Most Kafka connections open at once.");
        Add("max.connections.per.ip", ConfigValueType.Int, IntMax, cluster, v => IntAtLeast(v, 1), "Most Kafka connections from one address.");
        Add("max.connections.per.ip.overrides", ConfigValueType.String, "", cluster, ConnectionOverrides, "HOST:COUNT,... per-address exceptions to max.connections.per.ip.");
        Add("socket.request.max.bytes", ConfigValueType.Int, "104857600", ro, v => IntAtLeast(v, 1), "Largest request accepted.");
        Add("queued.max.request.bytes", ConfigValueType.Long, "268435456", ro, v => LongAtLeast(v, -1), "Memory all connections' requests may hold at once; -1 for no bound.");
        Add("connections.max.idle.ms", ConfigValueType.Long, "600000", ro, v => LongAtLeast(v, 1), "Idle connections are closed after this long.");
        Add("socket.send.buffer.bytes", ConfigValueType.Int, "102400", ro, v => IntAtLeast(v, -1), "Accepted; the OS sizes socket buffers.");
        Add("socket.receive.buffer.bytes", ConfigValueType.Int, "102400", ro, v => IntAtLeast(v, -1), "Accepted; the OS sizes socket buffers.");
        Add("num.network.threads", ConfigValueType.Int, "3", cluster, v => IntAtLeast(v, 1), "Accepted; Brook's I/O runs on the .NET thread pool.");
        Add("num.io.threads", ConfigValueType.Int, "8", cluster, v => IntAtLeast(v, 1), "Accepted; Brook's request handling runs on the .NET thread pool.");
        Add("background.threads", ConfigValueType.Int, "10", cluster, v => IntAtLeast(v, 1), "Accepted; background work runs on the .NET thread pool.");
        Add("num.recovery.threads.per.data.dir", ConfigValueType.Int, "2", cluster, v => IntAtLeast(v, 1), "Accepted; recovery uses the .NET thread pool.");
        Add("num.replica.fetchers", ConfigValueType.Int, "1", cluster, v => IntAtLeast(v, 1), "Accepted; a single node has no followers.");

        // Consumer groups and transactions.
        Add("group.min.session.timeout.ms", ConfigValueType.Int, "6000", ro, v => IntAtLeast(v, 0), "Shortest session timeout a classic group member may ask for.");
        Add("group.max.session.timeout.ms", ConfigValueType.Int, "1800000", ro, v => IntAtLeast(v, 0), "Longest session timeout a classic group member may ask for.");
        Add("group.initial.rebalance.delay.ms", ConfigValueType.Int, "3000", ro, v => IntAtLeast(v, 0), "How long a new classic group waits for more members before its first rebalance.");
        Add("group.consumer.heartbeat.interval.ms", ConfigValueType.Int, "5000", ro, v => IntAtLeast(v, 1), "Heartbeat interval of consumer-protocol (KIP-848) members.");
        Add("group.consumer.session.timeout.ms", ConfigValueType.Int, "45000", ro, v => IntAtLeast(v, 1), "Session timeout of consumer-protocol (KIP-848) members.");
        Add("offsets.retention.minutes", ConfigValueType.Int, "10080", ro, v => IntAtLeast(v, 1), "How long committed offsets of an empty group are kept.");
        Add("offset.metadata.max.bytes", ConfigValueType.Int, "4096", ro, v => IntAtLeast(v, 0), "Largest metadata string of a committed offset.");
        Add("offsets.topic.num.partitions", ConfigValueType.Int, "4", ro, v => IntAtLeast(v, 1), "Partitions of __consumer_offsets.");
        Add("offsets.topic.replication.factor", ConfigValueType.Short, "1", ro, v => IntAtLeast(v, 1), "Accepted; a single node keeps one replica.");
        Add("transaction.state.log.num.partitions", ConfigValueType.Int, "4", ro, v => IntAtLeast(v, 1), "Partitions of __transaction_state.");
        Add("transaction.state.log.replication.factor", ConfigValueType.Short, "1", ro, v => IntAtLeast(v, 1), "Accepted; a single node keeps one replica.");
        Add("transaction.state.log.min.isr", ConfigValueType.Int, "1", ro, v => IntAtLeast(v, 1), "Accepted; a single node keeps one replica.");
        Add("transaction.max.timeout.ms", ConfigValueType.Int, "900000", ro, v => IntAtLeast(v, 1), "Longest transaction timeout a producer may ask for.");
        Add("transactional.id.expiration.ms", ConfigValueType.Int, "604800000", ro, v => IntAtLeast(v, 1), "How long an unused transactional id is kept.");
        Add("transaction.abort.timed.out.transaction.cleanup.interval.ms", ConfigValueType.Int, "10000", ro, v => IntAtLeast(v, 1), "How often timed-out transactions are aborted.");

        // Security.
        Add("sasl.enabled.mechanisms", ConfigValueType.List, "SCRAM-SHA-256,SCRAM-SHA-512", ro, Any, "SASL mechanisms offered: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512.");
        Add("sasl.plain.users", ConfigValueType.String, null, ro, Any, "Brook: PLAIN users as user:password,...", sensitive: true);
        Add("sasl.server.max.receive.size", ConfigValueType.Int, "524288", ro, v => IntAtLeast(v, 64), "Largest request accepted before authentication.");
        Add("connection.failed.authentication.delay.ms", ConfigValueType.Int, "100", ro, v => IntAtLeast(v, 0), "Delay before answering a failed login.");
        Add("ssl.client.auth", ConfigValueType.String, "none", ro, v => OneOf(v.ToLowerInvariant(), ["none", "requested", "required"]), "Whether clients must present a certificate.");
        Add("ssl.keystore.type", ConfigValueType.String, "PKCS12", ro, Any, "PKCS12 or PEM.");
        Add("ssl.keystore.location", ConfigValueType.String, null, ro, Any, "The listener's certificate and key.");
        Add("ssl.keystore.password", ConfigValueType.Password, null, ro, Any, "Password of the key store.", sensitive: true);
        Add("ssl.key.location", ConfigValueType.String, null, ro, Any, "Brook: a PEM private key beside a PEM certificate chain.");
        Add("ssl.key.password", ConfigValueType.Password, null, ro, Any, "Password of an encrypted private key.", sensitive: true);
        Add("ssl.keystore.certificate.chain", ConfigValueType.Password, null, ro, Any, "The certificate chain as PEM text.", sensitive: true);
        Add("ssl.keystore.key", ConfigValueType.Password, null, ro, Any, "The private key as PEM text.", sensitive: true);
        Add("ssl.truststore.type", ConfigValueType.String, "PKCS12", ro, Any, "PKCS12 or PEM.");
        Add("ssl.truststore.location", ConfigValueType.String, null, ro, Any, "CAs that client certificates must chain to.");
        Add("ssl.truststore.password", ConfigValueType.Password, null, ro, Any, "Password of the trust store.", sensitive: true);
        Add("ssl.truststore.certificates", ConfigValueType.Password, null, ro, Any, "Trusted CAs as PEM text.", sensitive: true);
        Add("ssl.principal.mapping.rules", ConfigValueType.String, "DEFAULT", ro, Any, "Only DEFAULT: the principal is the certificate subject.");
        Add("authorizer.class.name", ConfigValueType.String, "", ro, Any, "Any non-empty value turns ACLs on.");
        Add("super.users", ConfigValueType.String, null, ro, Any, "Principals allowed everything, User:a;User:b.");
        Add("allow.everyone.if.no.acl.found", ConfigValueType.Boolean, "false", ro, Boolean, "Allow access to resources that have no ACL.");

        // Brook's operations settings.
        Add("metrics.runtime.enabled", ConfigValueType.Boolean, "false", ro, Boolean, "Brook: export .NET runtime and ASP.NET Core series at /metrics too.");
        Add("log.slow.request.ms", ConfigValueType.Long, "1000", ro, v => LongAtLeast(v, -1), "Brook: log requests slower than this (ms); -1 logs none.");

        // Kafka's cluster settings a single node reads nothing from.
        foreach (var name in new[] { "process.roles", "controller.quorum.voters", "controller.quorum.bootstrap.servers", "controller.listener.names", "inter.broker.listener.name" })
            Add(name, ConfigValueType.String, null, ro, Any, "Accepted for Kafka compatibility; Brook is a single node.");

        return [.. all.Values.OrderBy(d => d.Name, StringComparer.Ordinal)];
    }

    private static string? Any(string value) => null;

    private static string? ConnectionOverrides(string value)
    {
        foreach (var entry in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = entry.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(entry[(colon + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var limit) || limit < 0)
                return $"entry '{entry}' must look like HOST:COUNT";
        }
        return null;
    }

    private static string? Listeners(string value)
    {
        foreach (var listener in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                _ = ListenerEndpoint.Parse(listener);
            }
            catch (FormatException e)
            {
                return e.Message;
            }
        }
        return null;
    }

    private static string? Boolean(string value) =>
        value.Equals("true", StringComparison.OrdinalIgnoreCase) || value.Equals("false", StringComparison.OrdinalIgnoreCase) ? null : "Expected value to be either true or false";

    private static string? OneOf(string value, string[] allowed) =>
        allowed.Contains(value, StringComparer.Ordinal) ? null : $"String must be one of: {string.Join(", ", allowed)}";

    private static string? IntAtLeast(string value, int min)
    {
        if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)) return "Not a number of type INT";
        return number < min ? $"Value must be at least {min}" : null;
    }

    private static string? LongAtLeast(string value, long min)
    {
        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)) return "Not a number of type LONG";
        return number < min ? $"Value must be at least {min}" : null;
    }

    private static string? DoubleAtLeast(string value, double min)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || double.IsNaN(number)) return "Not a number of type DOUBLE";
        return number < min ? $"Value must be at least {min.ToString(CultureInfo.InvariantCulture)}" : null;
    }
}
