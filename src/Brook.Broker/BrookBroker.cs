using System.Diagnostics;
using System.Globalization;
using Brook.Broker.Configuration;
using Brook.Broker.Groups;
using Brook.Broker.Handlers;
using Brook.Broker.Network;
using Brook.Broker.Producers;
using Brook.Broker.Security;
using Brook.Broker.Telemetry;
using Brook.Broker.Topics;
using Brook.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Brook.Broker;

/// <summary>
/// A running broker. Embedded use: <c>await using var broker = await BrookBroker.StartAsync();</c> then point any
/// Kafka client at <see cref="BootstrapServers"/>. Disposing shuts down gracefully.
/// </summary>
public sealed class BrookBroker : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ILogStore _store;
    private readonly DataDirectoryLock? _dataLock;

    private BrookBroker(WebApplication app, ILogStore store, DataDirectoryLock? dataLock, BrokerNode node, TimeSpan startTime)
    {
        _app = app;
        _store = store;
        _dataLock = dataLock;
        Node = node;
        StartTime = startTime;
    }

    public BrokerNode Node { get; }

    /// <summary>host:port of the first advertised listener, for a client's bootstrap.servers.</summary>
    public string BootstrapServers => string.Join(",", Node.AdvertisedListeners.Select(l => $"{l.Host}:{l.Port}"));

    /// <summary>host:port of the named listener (e.g. "SASL_SSL"), for clients using that listener's security.</summary>
    public string BootstrapServersFor(string listenerName)
    {
        var endpoint = Node.EndpointFor(listenerName);
        if (!string.Equals(endpoint.Name, listenerName, StringComparison.OrdinalIgnoreCase)) throw new ArgumentException($"No listener named {listenerName}.", nameof(listenerName));
        return $"{endpoint.Host}:{endpoint.Port}";
    }

    /// <summary>How long starting took until the listeners accepted connections.</summary>
    public TimeSpan StartTime { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Base addresses of the HTTP endpoints (/metrics, /health/live, /health/ready), when configured.</summary>
    public IReadOnlyList<string> HttpAddresses { get; private set; } = [];

    public ILogStore Store => _store;

    /// <summary>Starts a broker. With no options: in-memory storage on an ephemeral loopback port.</summary>
    public static Task<BrookBroker> StartAsync(BrokerOptions? options = null, CancellationToken cancellationToken = default) =>
        StartAsync(options ?? new BrokerOptions { Listeners = ["PLAINTEXT://127.0.0.1:0"], InMemory = true }, configureApp: null, cancellationToken);

    /// <summary>Starts a broker; <paramref name="configureApp"/> may add services and endpoints (the server adds HTTP).</summary>
    public static async Task<BrookBroker> StartAsync(BrokerOptions options, Action<WebApplicationBuilder>? configureApp, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        if (options.Listeners.Count == 0) throw new ArgumentException("At least one listener is required.", nameof(options));
        // Unknown names and bad values are refused before anything starts, so a typo never silently keeps a default.
        if (BrokerConfigDefinitions.ValidateAll(options.Configs) is { } invalid) throw new ArgumentException(invalid, nameof(options));
        var security = SecuritySettings.Parse(options);
        var listeners = security.Listeners.Select(l => l.Endpoint).ToList();
        // Certificates are loaded before storage is opened, so a bad file fails the start without side effects.
        var tls = security.Listeners.Select(l => l.Tls is { } settings ? new TlsListenerState(l.Name, TlsSetup.CreateAuthenticationOptions(settings)) : null).ToList();

        // Connection and request limits, and the HTTP listeners, are checked before storage is opened too.
        var limits = new ConnectionLimits(options);
        var httpListeners = options.HttpListeners.Select(ParseHttpListener).ToList();

        // The host's appsettings files are not the broker's configuration; reloading them would watch the working
        // directory recursively (an inotify watch per folder, and events for every log write under it).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        configureApp?.Invoke(builder);
        // Read into a buffer at once rather than first waiting for data with a 1-byte peek: one receive call per
        // 4 KiB block instead of two, which counts for megabyte produce requests; an idle connection holds one block.
        builder.WebHost.UseSockets(sockets => sockets.WaitForDataBeforeAllocatingBuffer = false);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Kafka connections are counted by ConnectionLimits (max.connections, per address); HTTP ones are not Kafka's.
            kestrel.AddServerHeader = false;
            for (var i = 0; i < security.Listeners.Count; i++)
            {
                var listener = security.Listeners[i];
                var https = tls[i];
                var feature = new BrokerListenerFeature(listener);
                kestrel.Listen(listener.Endpoint.BindAddress, listener.Endpoint.Port, l =>
                {
                    l.Use(next => connection =>
                    {
                        connection.Features.Set(feature);
                        return next(connection);
                    });
                    // Options are taken per handshake, so a dynamic change of the listener's key store applies to new connections.
                    if (https is not null)
                        l.UseHttps(new TlsHandshakeCallbackOptions { OnConnection = _ => ValueTask.FromResult(https.Current), HandshakeTimeout = TimeSpan.FromSeconds(10) });
                    l.UseConnectionHandler<KafkaConnectionHandler>();
                });
            }
            foreach (var http in httpListeners)
                kestrel.Listen(http.Address, http.Port);
        });
        builder.WebHost.UseShutdownTimeout(options.ShutdownTimeout);
        // The lock comes before anything in the directory is read or written: a second broker on it must not recover,
        // write meta.properties or leave a clean-shutdown marker in a directory another broker is writing.
        var dataLock = options.InMemory ? null : DataDirectoryLock.Acquire(options.DataDirectory);
        ILogStore? store = null;
        WebApplication app;
        BrokerNode node;
        try
        {
            node = CreateNode(options);
            // Storage is opened (and recovered) before any connection is accepted.
            store = await StorageFactory.OpenAsync(options, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            var config = new BrokerConfig(StorageFactory.EffectiveBrokerConfigs(options),
                options.InMemory ? DynamicBrokerConfigStore.InMemory() : DynamicBrokerConfigStore.Open(options.DataDirectory), DiskLogStore.BrookBrokerDefaults.Keys);
            // Dynamic broker configs stored by an earlier run are in force before any client is served.
            if (config.Dynamic.ClusterDefaults.Count + config.Dynamic.Broker.Count > 0)
            {
                await store.UpdateBrokerConfigsAsync(config.Values, cancellationToken).ConfigureAwait(false);
                limits.Reconfigure(config.Values, options);
            }
            AddBrokerServices(builder.Services, options, node, store, config);
            builder.Services.AddSingleton<IReadOnlyList<TlsListenerState>>(tls.OfType<TlsListenerState>().ToList());
            builder.Services.AddSingleton(limits);
            builder.Services.AddSingleton(new RequestMemoryPool(limits.QueuedMaxRequestBytes));
            AddSecurityServices(builder.Services, options, security);
            app = builder.Build();
            app.Services.GetRequiredService<BrokerConfigChanges>().ApplyStoredTls();
        }
        catch (Exception ex)
        {
            if (store is not null) await store.DisposeAsync().ConfigureAwait(false);
            dataLock?.Dispose();
            if (ex is IOException or UnauthorizedAccessException && !options.InMemory)
            {
                throw new FatalStartException(StartExitCode.DataDirectoryUnusable,
                    $"cannot use the data directory {Path.GetFullPath(options.DataDirectory)}: {ex.Message.TrimEnd('.')}; give --data-dir a writable directory", ex);
            }
            throw;
        }
        LogEffectiveConfiguration(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Brook.Broker.Configuration"), options);
        if (store is DiskLogStore disk) LogRecovery(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Brook.Storage.Recovery"), disk.Recovery);
        if (options.HttpListeners.Count > 0)
        {
            MapHttpEndpoints(app);
        }
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            await store.DisposeAsync().ConfigureAwait(false);
            dataLock?.Dispose();
            if (BindFailure(ex, security.Listeners, httpListeners) is { } fatal) throw fatal;
            throw;
        }
        node.AdvertisedListeners = ResolveAdvertised(options, listeners, app);
        var broker = new BrookBroker(app, store, dataLock, node, clock.Elapsed);
        broker.HttpAddresses = BoundAddresses(app).Skip(listeners.Count).ToList();
        return broker;
    }

    internal static void AddBrokerServices(IServiceCollection services, BrokerOptions options, BrokerNode node, ILogStore store, BrokerConfig config)
    {
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(config);
        services.AddSingleton<BrokerConfigChanges>();
        services.AddSingleton(node);
        services.AddSingleton(store);
        services.AddSingleton<TopicService>();
        services.AddSingleton<PartitionWriter>();
        services.AddSingleton(_ => ProducerIdManager.Create(options));
        services.AddSingleton<TopicConfigChanges>();
        services.AddSingleton<RequestDispatcher>();
        services.AddSingleton<BrokerMetrics>();
        services.AddSingleton(CreateExporter);
        services.AddSingleton<Fetching.FetchSessionCache>();
        services.AddSingleton<BrokerTestHooks>();
        services.AddSingleton<GroupCoordinator>();
        services.AddSingleton<GroupLagService>();
        services.AddHostedService<GroupCoordinatorService>();
        // After the group coordinator: finishing a half-ended transaction may complete pending offsets.
        services.AddSingleton<Transactions.TransactionCoordinator>();
        services.AddHostedService<Transactions.TransactionCoordinatorService>();
        foreach (var handler in typeof(BrookBroker).Assembly.GetTypes()
                     .Where(t => t is { IsAbstract: false, IsClass: true } && typeof(IRequestHandler).IsAssignableFrom(t)))
            services.AddSingleton(typeof(IRequestHandler), handler);
    }

    /// <summary>Listener security, SASL, SCRAM credentials and ACLs (kept under DATA/security unless in memory).</summary>
    internal static void AddSecurityServices(IServiceCollection services, BrokerOptions options, SecuritySettings security)
    {
        var directory = Path.Combine(options.DataDirectory, "security");
        services.AddSingleton(security);
        services.AddSingleton(options.InMemory ? ScramCredentialStore.InMemory() : ScramCredentialStore.Open(directory));
        services.AddSingleton(options.InMemory ? AclStore.InMemory() : AclStore.Open(directory));
        services.AddSingleton(security.Authorizer);
        services.AddSingleton<SaslAuthenticator>();
        if (security.AuthorizerEnabled) services.AddSingleton<IAuthorizer, AclAuthorizer>();
        else services.AddSingleton<IAuthorizer>(AllowAllAuthorizer.Instance);
    }

    private static BrokerNode CreateNode(BrokerOptions options)
    {
        if (options.InMemory) return new BrokerNode(1, NewClusterId());
        // meta.properties keeps the node id and cluster id stable across restarts, as Kafka's does.
        Directory.CreateDirectory(options.DataDirectory);
        var path = Path.Combine(options.DataDirectory, "meta.properties");
        if (File.Exists(path))
        {
            var values = File.ReadAllLines(path)
                .Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#'))
                .Select(l => l.Split('=', 2))
                .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.Ordinal);
            if (values.TryGetValue("node.id", out var id) && values.TryGetValue("cluster.id", out var cluster))
                return new BrokerNode(int.Parse(id, CultureInfo.InvariantCulture), cluster);
        }
        var node = new BrokerNode(1, NewClusterId());
        var temp = path + ".tmp";
        File.WriteAllText(temp, $"version=1\nnode.id={node.NodeId}\ncluster.id={node.ClusterId}\n");
        File.Move(temp, path, overwrite: true);
        return node;
    }

    /// <summary>A summary line of what opening the log found, and a warning for each repair (what was lost, where and why).</summary>
    private static void LogRecovery(ILogger logger, RecoveryReport report)
    {
        foreach (var repair in report.Repairs)
        {
            if (repair.BytesDropped == 0)
            {
                logger.LogWarning("recovery: {Topic}-{Partition} segment {Segment}: {Reason}", repair.Topic, repair.Partition, repair.Segment, repair.Reason);
                continue;
            }
            var lost = repair.ToOffset is { } last ? $"offsets {repair.FromOffset} to {last}" : $"offsets from {repair.FromOffset}";
            logger.LogWarning("recovery: {Topic}-{Partition} segment {Segment}: dropped {Bytes} bytes ({Lost}): {Reason}",
                repair.Topic, repair.Partition, repair.Segment, repair.BytesDropped, lost, repair.Reason);
        }
        if (report.CleanShutdown)
        {
            logger.LogInformation("recovery: clean shutdown, {Partitions} partitions opened without scanning in {Ms:F0} ms; {Repairs} repairs",
                report.Partitions, report.Elapsed.TotalMilliseconds, report.Repairs.Count);
        }
        else
        {
            logger.LogInformation("recovery: no clean shutdown, {Segments} segments of {Partitions} partitions scanned in {Ms:F0} ms; {Repairs} repairs, {Bytes} bytes dropped",
                report.SegmentsScanned, report.Partitions, report.Elapsed.TotalMilliseconds, report.Repairs.Count, report.TruncatedBytes);
        }
    }

    /// <summary>
    /// Kestrel's bind failure as a start error naming the listener as it was configured: Kestrel names every endpoint
    /// http://, Kafka listeners included, so the port tells which listener failed.
    /// </summary>
    private static FatalStartException? BindFailure(Exception ex, IReadOnlyList<BrokerListener> kafka, List<(System.Net.IPAddress Address, int Port)> http)
    {
        var socketError = ex switch
        {
            { InnerException: AddressInUseException } => "its port is in use",
            { InnerException: System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressNotAvailable } } => "its address is not on this machine",
            { InnerException: System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AccessDenied } } => "binding its port needs privileges",
            { InnerException: System.Net.Sockets.SocketException socket } => socket.Message,
            _ => null,
        };
        if (socketError is null || ex is not IOException) return null;
        var failed = System.Text.RegularExpressions.Regex.Match(ex.Message, @"address https?://(?<address>\S+?):(?<port>\d+)");
        var port = failed.Success ? int.Parse(failed.Groups["port"].Value, CultureInfo.InvariantCulture) : -1;
        if (kafka.FirstOrDefault(l => l.Endpoint.Port == port && port != 0) is { } listener)
        {
            return new FatalStartException(StartExitCode.KafkaListenerUnavailable,
                $"cannot listen on Kafka listener {listener.Endpoint}: {socketError}; stop what uses it or choose another with --listeners", ex);
        }
        if (http.Any(h => h.Port == port && port != 0))
        {
            return new FatalStartException(StartExitCode.HttpListenerUnavailable,
                $"cannot listen on HTTP endpoint http://{failed.Groups["address"].Value}:{port} (console, /metrics, /health): {socketError}; "
                + "choose another with --http http://127.0.0.1:PORT, or --http none", ex);
        }
        return new FatalStartException(StartExitCode.KafkaListenerUnavailable, $"cannot listen: {socketError} ({ex.Message.TrimEnd('.')}); check --listeners and --http", ex);
    }

    private static (System.Net.IPAddress Address, int Port) ParseHttpListener(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != "http")
            throw new ArgumentException($"HTTP listener '{text}' must look like http://HOST:PORT.");
        var endpoint = new ListenerEndpoint("HTTP", uri.Host, uri.Port);
        return (endpoint.BindAddress, uri.Port);
    }

    /// <summary>
    /// The broker's own instruments and storage's, plus .NET's runtime and ASP.NET Core's when metrics.runtime.enabled is
    /// true (off by default: they are some 200 series few operators of a broker look at).
    /// </summary>
    private static PrometheusExporter CreateExporter(IServiceProvider services)
    {
        var own = services.GetRequiredService<BrokerMetrics>().Meter;
        var runtime = services.GetRequiredService<BrokerConfig>().GetBool(MetricsRuntimeEnabled, fallback: false);
        return new PrometheusExporter(instrument =>
            ReferenceEquals(instrument.Meter, own)
            || ReferenceEquals(instrument.Meter, StorageMetrics.Meter)
            || (runtime && (instrument.Meter.Name is "System.Runtime" || instrument.Meter.Name.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal))));
    }

    /// <summary>The switch for .NET runtime and ASP.NET Core series on /metrics.</summary>
    public const string MetricsRuntimeEnabled = "metrics.runtime.enabled";

    /// <summary>The settings that differ from the defaults, once at start (secrets masked), so an operator sees what is in force.</summary>
    private static void LogEffectiveConfiguration(ILogger logger, BrokerOptions options)
    {
        var set = options.Configs
            .Where(c => BrokerConfigDefinitions.Find(c.Key) is not { } d || d.DefaultValue != c.Value.Trim())
            .OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => $"{c.Key}={(BrokerConfigDefinitions.Find(c.Key)?.IsSensitive == true ? "[hidden]" : c.Value)}");
        logger.LogInformation("Configuration: listeners={Listeners}, data={Data}; set: {Settings}", string.Join(",", options.Listeners),
            options.InMemory ? "in memory" : Path.GetFullPath(options.DataDirectory), string.Join(", ", set) is { Length: > 0 } text ? text : "(all defaults)");
    }

    /// <summary>Prometheus text at /metrics; liveness and readiness for orchestrators.</summary>
    private static void MapHttpEndpoints(WebApplication app)
    {
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        // Created now, so it counts from the start rather than from the first scrape.
        var exporter = app.Services.GetRequiredService<PrometheusExporter>();
        app.MapGet("/metrics", async (HttpContext context) =>
        {
            var text = await exporter.ScrapeAsync(context.RequestAborted).ConfigureAwait(false);
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await context.Response.WriteAsync(text, context.RequestAborted).ConfigureAwait(false);
        });
        IResult Ready() => lifetime.ApplicationStarted.IsCancellationRequested && !lifetime.ApplicationStopping.IsCancellationRequested
            ? Results.Text("ready\n")
            : Results.Text("not ready\n", statusCode: 503);
        app.MapGet("/health/live", () => Results.Text("live\n"));
        app.MapGet("/health/ready", Ready);
        app.MapGet("/health", Ready);
        foreach (var endpoints in app.Services.GetServices<HttpEndpoints>()) endpoints.Map(app);
    }

    private static List<string> BoundAddresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    private static string NewClusterId() => Protocol.KafkaUuid.NewRandom().ToString();

    /// <summary>Per listener: its advertised endpoint when one of that name is configured, else its bound address.</summary>
    private static List<ListenerEndpoint> ResolveAdvertised(BrokerOptions options, List<ListenerEndpoint> listeners, WebApplication app)
    {
        var advertised = new Dictionary<string, ListenerEndpoint>(StringComparer.OrdinalIgnoreCase);
        foreach (var a in options.AdvertisedListeners.Select(ListenerEndpoint.Parse)) advertised[a.Name] = a;
        var bound = BoundAddresses(app);
        var result = new List<ListenerEndpoint>();
        for (var i = 0; i < listeners.Count; i++)
        {
            var l = listeners[i];
            if (advertised.TryGetValue(l.Name, out var configured))
            {
                result.Add(configured with { Name = l.Name });
                continue;
            }
            var port = l.Port;
            if (port == 0 && i < bound.Count && Uri.TryCreate(bound[i], UriKind.Absolute, out var uri)) port = uri.Port;
            var host = l.Host is "" or "0.0.0.0" or "::" ? System.Net.Dns.GetHostName() : l.Host;
            result.Add(l with { Host = host, Port = port });
        }
        return result;
    }

    /// <summary>Stops accepting connections, lets in-flight requests finish, then closes storage.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default) => await _app.StopAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Runs until the host is stopped (SIGTERM, Ctrl-C).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            try
            {
                // Last, after every request has finished: flushes and marks a clean shutdown.
                await _store.DisposeAsync().ConfigureAwait(false);
            }
            finally
            {
                _dataLock?.Dispose();
            }
        }
    }
}
