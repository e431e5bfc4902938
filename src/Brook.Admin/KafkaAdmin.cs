using Brook.Admin.Bench;
using Confluent.Kafka;

namespace Brook.Admin;

/// <summary>
/// Administration of one Kafka cluster over the Kafka protocol. One admin connection is opened on first use and shared
/// by the services; the object is safe to use from several threads at once. Every operation is async and cancellable,
/// and fails with an <see cref="AdminException"/> that says what kind of failure it was.
/// </summary>
public sealed class KafkaAdmin : IDisposable
{
    private readonly Lock _clientLock = new();
    private IAdminClient? _client;
    private readonly Lazy<WireSecurity> _wireSecurity;

    public KafkaAdmin(ConnectionSettings settings)
    {
        Settings = settings;
        _wireSecurity = new Lazy<WireSecurity>(() => WireSecurity.From(settings.Properties), LazyThreadSafetyMode.PublicationOnly);
        Cluster = new ClusterService(this);
        Topics = new TopicService(this);
        Configs = new ConfigService(this);
        Groups = new GroupService(this);
        Acls = new AclService(this);
        Users = new ScramUserService(this);
        Messages = new MessageService(this);
        LogDirs = new LogDirService(this);
        Bench = new BenchService(this);
    }

    public ConnectionSettings Settings { get; }

    public ClusterService Cluster { get; }

    public TopicService Topics { get; }

    public ConfigService Configs { get; }

    public GroupService Groups { get; }

    public AclService Acls { get; }

    public ScramUserService Users { get; }

    public MessageService Messages { get; }

    public LogDirService LogDirs { get; }

    /// <summary>Load runs: produce, consume and end-to-end throughput and latency.</summary>
    public BenchService Bench { get; }

    internal TimeSpan Timeout => Settings.Timeout;

    /// <summary>TLS and SASL of the connections Brook.Admin opens itself (<see cref="KafkaWireConnection"/>), from the same properties.</summary>
    internal WireSecurity WireSecurity => _wireSecurity.Value;

    public void Dispose()
    {
        lock (_clientLock) _client?.Dispose();
    }

    private IAdminClient Client()
    {
        lock (_clientLock) return _client ??= CreateClient();
    }

    private IAdminClient CreateClient()
    {
        try
        {
            return new AdminClientBuilder(Settings.AdminConfig()).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or KafkaException)
        {
            throw AdminException.Invalid($"client configuration: {ex.Message}");
        }
    }

    /// <summary>
    /// Runs one admin call. Confluent's calls take no token, so cancellation abandons the wait; the call itself ends at
    /// its request timeout. Errors not handled by <paramref name="translate"/> become an <see cref="AdminException"/>.
    /// </summary>
    internal async Task<T> CallAsync<T>(Func<IAdminClient, Task<T>> call, string context, CancellationToken cancellationToken,
        Func<KafkaException, AdminException?>? translate = null)
    {
        try
        {
            // A margin over the request timeout: librdkafka reports its own timeout with a better reason.
            var deadline = Timeout + TimeSpan.FromSeconds(5);
            var client = Client();
            try
            {
                return await call(client).WaitAsync(deadline, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // Confluent.Kafka destroys an admin client whose result thread met an answer it could not read, and every
                // later call is refused before anything is sent. Drop it (disposing it again would destroy it twice) and
                // run the call once on a new client.
                lock (_clientLock)
                {
                    if (ReferenceEquals(_client, client)) _client = null;
                }
                return await call(Client()).WaitAsync(deadline, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (KafkaException ex)
        {
            var error = translate?.Invoke(ex) ?? AdminException.From(ex.Error, context, ex);
            throw error.Kind == AdminErrorKind.Unreachable
                ? new AdminException(error.Kind, $"{error.Message} (bootstrap servers {Settings.BootstrapServers})", ex) { Code = error.Code }
                : error;
        }
        catch (TimeoutException ex)
        {
            throw new AdminException(AdminErrorKind.Unreachable, $"{context}: no answer from {Settings.BootstrapServers} within {Timeout.TotalSeconds:0.#} s", ex);
        }
    }

    internal Task CallAsync(Func<IAdminClient, Task> call, string context, CancellationToken cancellationToken,
        Func<KafkaException, AdminException?>? translate = null) =>
        CallAsync(async c => { await call(c).ConfigureAwait(false); return true; }, context, cancellationToken, translate);

    /// <summary>
    /// Runs <paramref name="call"/> on a connection of Brook.Admin's own to the first bootstrap server that answers, within
    /// the request timeout; it never touches the shared admin client. Connection failures become Unreachable.
    /// </summary>
    internal async Task<T> OnAnyBrokerAsync<T>(Func<KafkaWireConnection, CancellationToken, Task<T>> call, string context, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        var failures = new List<string>();
        foreach (var (host, port) in BootstrapEndpoints())
        {
            KafkaWireConnection connection;
            try
            {
                connection = await KafkaWireConnection.OpenAsync(host, port, Settings.ClientId, WireSecurity, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or Brook.Protocol.ProtocolException
                                           or System.Security.Authentication.AuthenticationException)
            {
                failures.Add($"{host}:{port}: {ex.Message}");
                continue;
            }
            await using (connection.ConfigureAwait(false))
            {
                try
                {
                    return await call(connection, deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or Brook.Protocol.ProtocolException)
                {
                    throw new AdminException(AdminErrorKind.Unreachable, $"{context}: {host}:{port}: {ex.Message}", ex);
                }
            }
        }
        throw new AdminException(AdminErrorKind.Unreachable, failures.Count > 0
            ? $"{context}: no broker could be reached ({string.Join("; ", failures)})"
            : $"{context}: no answer from {Settings.BootstrapServers} within {Timeout.TotalSeconds:0.#} s");
    }

    private IEnumerable<(string Host, int Port)> BootstrapEndpoints()
    {
        foreach (var entry in Settings.BootstrapServers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var address = entry.Contains("://", StringComparison.Ordinal) ? entry[(entry.IndexOf("://", StringComparison.Ordinal) + 3)..] : entry;
            var colon = address.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(address[(colon + 1)..], out var port)) throw AdminException.Invalid($"bootstrap server '{entry}' is not HOST:PORT");
            yield return (address[..colon].Trim('[', ']'), port);
        }
    }

    /// <summary>Cluster metadata (all topics, or one topic) through the admin connection; blocking in librdkafka, so run off the caller's thread.</summary>
    internal Task<Metadata> MetadataAsync(string? topic, CancellationToken cancellationToken) =>
        CallAsync(c => Task.Run(() => topic is null ? c.GetMetadata(Timeout) : c.GetMetadata(topic, Timeout), cancellationToken), "metadata", cancellationToken);

    /// <summary>First error among per-item results, as an exception; null when every item succeeded.</summary>
    internal static AdminException? FirstError<TItem>(IEnumerable<TItem> items, Func<TItem, Error> error, Func<TItem, string> describe)
    {
        foreach (var item in items)
        {
            var e = error(item);
            if (e.IsError) return AdminException.From(e, describe(item));
        }
        return null;
    }
}
