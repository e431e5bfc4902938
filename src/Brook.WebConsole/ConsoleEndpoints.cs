using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Brook.Admin;
using Confluent.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Brook.WebConsole;

/// <summary>Adds the web console: its services, then its routes (the page at /, assets under /assets, the JSON API under /api).</summary>
public static class ConsoleEndpoints
{
    /// <summary>
    /// Registers the console's services. <paramref name="connection"/> says where the cluster is; it is asked at the first API
    /// request and may return null while the address is not known yet. <paramref name="brokerMeter"/>, when given, is the
    /// meter of the broker this process runs, whose counters feed the live rates. <paramref name="allowedHosts"/> are host
    /// names the console answers to besides loopback names and the listeners' addresses (see <see cref="ConsoleHostGuard"/>).
    /// </summary>
    public static IServiceCollection AddBrookConsole(this IServiceCollection services, Func<IServiceProvider, ConnectionSettings?> connection,
        Func<IServiceProvider, Meter?>? brokerMeter = null, IEnumerable<string>? allowedHosts = null)
    {
        services.AddSingleton(sp => new ConsoleHostGuard(sp.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>(), allowedHosts ?? []));
        services.AddSingleton(sp => new ConsoleAdmin(() => connection(sp)));
        services.AddSingleton(sp => new ThroughputMonitor(brokerMeter?.Invoke(sp)));
        services.AddHostedService(sp => sp.GetRequiredService<ThroughputMonitor>());
        services.AddSingleton(sp => new LagHistory(sp.GetService<TimeProvider>() ?? TimeProvider.System));
        return services;
    }

    public static IEndpointRouteBuilder MapBrookConsole(this IEndpointRouteBuilder endpoints)
    {
        // Every console route, page and API, checks the Host header first.
        var guard = endpoints.ServiceProvider.GetRequiredService<ConsoleHostGuard>();
        var console = endpoints.MapGroup("");
        console.AddEndpointFilter(guard.FilterAsync);
        StaticAssets.Map(console);
        var api = console.MapGroup("/api");
        api.AddEndpointFilter(GuardAndTranslateErrors);
        MapOverview(api);
        MapTopics(api);
        MapGroups(api);
        MapSecurity(api);
        api.MapFallback(() => Results.Json(new ApiError("no such API", "not-found"), statusCode: StatusCodes.Status404NotFound));
        return endpoints;
    }

    private static void MapOverview(RouteGroupBuilder api)
    {
        api.MapGet("/overview", async (ConsoleAdmin console, ThroughputMonitor throughput, CancellationToken ct) =>
        {
            var admin = console.Admin;
            var clusterTask = admin.Cluster.DescribeAsync(ct);
            var topicsTask = admin.Topics.SummariesAsync(includeInternal: true, ct);
            var groupsTask = admin.Groups.ListAsync(ct);
            var cluster = await clusterTask;
            IReadOnlyDictionary<ConfigEntity, IReadOnlyList<ConfigValue>> brokerConfigs;
            try
            {
                brokerConfigs = await admin.Configs.DescribeManyAsync(cluster.Brokers.Select(b => ConfigEntity.Broker(b.Id)).ToList(), ct);
            }
            catch (AdminException)
            {
                brokerConfigs = new Dictionary<ConfigEntity, IReadOnlyList<ConfigValue>>();
            }
            var brokers = cluster.Brokers.Select(b =>
            {
                var configs = brokerConfigs.GetValueOrDefault(ConfigEntity.Broker(b.Id));
                string? Config(string name) => configs?.FirstOrDefault(c => c.Name == name)?.Value;
                return new BrokerView(b.Id, b.Host, b.Port, b.Rack, cluster.Controller?.Id == b.Id, Config("listeners"), Config("advertised.listeners"));
            }).ToList();
            var topics = await topicsTask;
            var groups = await groupsTask;
            var sizes = topics.Topics.Select(t => t.SizeBytes).ToList();
            return new Overview(cluster.ClusterId, brokers, topics.Topics.Count(t => !t.IsInternal), topics.Topics.Count(t => t.IsInternal),
                topics.Topics.Sum(t => t.Partitions), topics.Topics.Sum(t => t.Messages), sizes.All(s => s is not null) ? sizes.Sum() : null,
                groups.Count, throughput.Current());
        });
        api.MapGet("/rates", (ThroughputMonitor throughput) => throughput.Current());
    }

    private static void MapTopics(RouteGroupBuilder api)
    {
        api.MapGet("/topics", async (ConsoleAdmin console, bool? internalTopics, CancellationToken ct) =>
            await console.Admin.Topics.SummariesAsync(internalTopics ?? true, ct));

        api.MapPost("/topics", async (CreateTopicRequest request, ConsoleAdmin console, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(request.Name)) throw AdminException.Invalid("a topic needs a name");
            var name = request.Name.Trim();
            await console.Admin.Topics.CreateAsync(new NewTopic(name)
            {
                Partitions = request.Partitions ?? -1,
                ReplicationFactor = request.ReplicationFactor ?? -1,
                Configs = request.Configs,
            }, cancellationToken: ct);
            return Results.Created($"/api/topics/{Uri.EscapeDataString(name)}", new { name });
        });

        api.MapDelete("/topics/{name}", async (string name, ConsoleAdmin console, CancellationToken ct) =>
        {
            await console.Admin.Topics.DeleteAsync([name], ct);
            return Results.NoContent();
        });

        api.MapGet("/topics/{name}", async (string name, ConsoleAdmin console, CancellationToken ct) =>
        {
            var admin = console.Admin;
            var details = await admin.Topics.DescribeAsync(name, ct);
            IReadOnlyDictionary<TopicPartition, long>? sizes = null;
            string? sizeError = null;
            try
            {
                sizes = await admin.LogDirs.PartitionSizesAsync([name], ct);
            }
            catch (AdminException ex)
            {
                sizeError = ex.Message;
            }
            var partitions = details.Partitions.Select(p => new PartitionView(p.Partition, p.Leader, p.Replicas, p.InSyncReplicas, p.StartOffset, p.EndOffset,
                p.Messages, sizes is null ? null : sizes.GetValueOrDefault(new TopicPartition(name, p.Partition)))).ToList();
            return new TopicView(details.Name, details.TopicId, details.IsInternal, partitions.Sum(p => p.Messages),
                sizes is null ? null : partitions.Sum(p => p.SizeBytes ?? 0), sizeError, partitions);
        });

        api.MapGet("/topics/{name}/configs", async (string name, ConsoleAdmin console, CancellationToken ct) =>
            await console.Admin.Configs.DescribeAsync(ConfigEntity.Topic(name), ct));

        api.MapPatch("/topics/{name}/configs", async (string name, AlterConfigsRequest request, ConsoleAdmin console, CancellationToken ct) =>
        {
            await console.Admin.Topics.AlterConfigAsync(name, request.Set ?? [], request.Delete ?? [], ct);
            return Results.NoContent();
        });

        api.MapGet("/topics/{name}/messages", async (string name, int? partition, string? from, long? offset, string? timestamp, int? limit, string? search,
            ConsoleAdmin console, CancellationToken ct) =>
        {
            var options = new BrowseOptions
            {
                Partitions = partition is { } p ? [p] : null,
                Start = (from ?? "newest") switch
                {
                    "newest" => BrowseStart.Newest,
                    "oldest" => BrowseStart.Oldest,
                    "offset" => BrowseStart.Offset,
                    "timestamp" => BrowseStart.Timestamp,
                    _ => throw AdminException.Invalid($"from must be newest, oldest, offset or timestamp, not '{from}'"),
                },
                Offset = offset ?? 0,
                Time = timestamp is null ? null : ParseTime(timestamp),
                Limit = limit ?? 50,
                Search = search,
            };
            if (options.Start == BrowseStart.Offset && offset is null) throw AdminException.Invalid("from=offset needs an offset");
            if (options.Start == BrowseStart.Timestamp && timestamp is null) throw AdminException.Invalid("from=timestamp needs a timestamp");
            if (options.Limit > 500) throw AdminException.Invalid("the limit must be at most 500");
            var result = await console.Admin.Messages.BrowseAsync(name, options, ct);
            return new BrowseView(result.Messages.Select(ApiMapping.ToView).ToList(), result.Scanned, result.ScanLimitReached);
        });

        api.MapPost("/topics/{name}/messages", async (string name, ProduceRequest request, ConsoleAdmin console, CancellationToken ct) =>
        {
            static byte[]? Bytes(string? text) => text is null ? null : Encoding.UTF8.GetBytes(text);
            var headers = (request.Headers ?? []).Select(h =>
            {
                if (string.IsNullOrEmpty(h.Key)) throw AdminException.Invalid("a header needs a name");
                return new KeyValuePair<string, byte[]?>(h.Key, Bytes(h.Value));
            }).ToList();
            var message = new OutgoingMessage(Bytes(request.Key), Bytes(request.Value)) { Headers = headers, Partition = request.Partition };
            return await console.Admin.Messages.ProduceOneAsync(name, message, cancellationToken: ct);
        });
    }

    private static void MapGroups(RouteGroupBuilder api)
    {
        api.MapGet("/groups", async (ConsoleAdmin console, CancellationToken ct) => await console.Admin.Groups.SummariesAsync(ct));

        api.MapGet("/groups/{groupId}", async (string groupId, ConsoleAdmin console, LagHistory history, CancellationToken ct) =>
        {
            var group = await console.Admin.Groups.DescribeAsync(groupId, ct);
            var samples = history.Record(group);
            return new GroupView(group.GroupId, group.State, group.Type, group.PartitionAssignor, group.Coordinator, group.TotalLag,
                group.Members.Select(m => new MemberView(m.MemberId, m.InstanceId, m.ClientId, m.Host,
                    m.Assignment.Select(tp => $"{tp.Topic}/{tp.Partition.Value}").ToList())).ToList(),
                group.Partitions.Select(p => new PartitionLagView(p.Topic, p.Partition, p.CommittedOffset, p.StartOffset, p.EndOffset, p.Lag,
                    p.Member?.MemberId, p.Member?.ClientId)).ToList(),
                samples);
        });

        api.MapPost("/groups/{groupId}/reset-offsets", async (string groupId, ResetOffsetsRequest request, ConsoleAdmin console, CancellationToken ct) =>
        {
            var admin = console.Admin;
            var reset = ApiMapping.ToReset(request);
            IReadOnlyList<TopicSelection>? topics = string.IsNullOrEmpty(request.Topic) ? null : [new TopicSelection(request.Topic, request.Partitions)];
            var plan = await admin.Groups.PlanResetAsync(groupId, topics, reset, ct);
            if (request.Execute) await admin.Groups.ApplyResetAsync(plan, ct);
            var ends = await admin.Topics.ListOffsetsAsync(plan.Partitions.Select(p => new TopicPartition(p.Topic, p.Partition)).ToList(), ct);
            return new ResetOffsetsView(plan.GroupId, plan.GroupState, plan.ActiveMembers, request.Execute, plan.Partitions.Select(p =>
            {
                var end = ends[new TopicPartition(p.Topic, p.Partition)].End;
                return new PlannedOffsetView(p.Topic, p.Partition, p.CurrentOffset, p.NewOffset, end,
                    p.CurrentOffset is { } current ? Math.Max(0, end - current) : null, Math.Max(0, end - p.NewOffset));
            }).ToList());
        });

        api.MapDelete("/groups/{groupId}", async (string groupId, ConsoleAdmin console, LagHistory history, CancellationToken ct) =>
        {
            await console.Admin.Groups.DeleteAsync([groupId], ct);
            history.Forget(groupId);
            return Results.NoContent();
        });
    }

    private static void MapSecurity(RouteGroupBuilder api)
    {
        api.MapGet("/acls", async (ConsoleAdmin console, CancellationToken ct) =>
            (await console.Admin.Acls.ListAsync(new AclQuery(), ct)).Select(ApiMapping.ToView).ToList());

        api.MapPost("/acls", async (AclView acl, ConsoleAdmin console, CancellationToken ct) =>
        {
            await console.Admin.Acls.CreateAsync([ApiMapping.ToRule(acl)], ct);
            return Results.Created("/api/acls", acl);
        });

        api.MapPost("/acls/delete", async (AclView acl, ConsoleAdmin console, CancellationToken ct) =>
            (await console.Admin.Acls.DeleteAsync(ApiMapping.ToQuery(acl), ct)).Select(ApiMapping.ToView).ToList());

        api.MapGet("/users", async (ConsoleAdmin console, CancellationToken ct) =>
            (await console.Admin.Users.ListAsync([], ct)).Select(u => new ScramUserView(u.User,
                u.Credentials.Select(c => new ScramCredentialView(ScramUserService.Format(c.Mechanism), c.Iterations)).ToList())).ToList());

        api.MapPost("/users", async (UpsertUserRequest request, ConsoleAdmin console, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(request.User)) throw AdminException.Invalid("a user needs a name");
            if (string.IsNullOrEmpty(request.Password)) throw AdminException.Invalid("a user needs a password");
            await console.Admin.Users.UpsertAsync(request.User, request.Password, ScramUserService.ParseMechanism(request.Mechanism ?? "SCRAM-SHA-256"),
                request.Iterations ?? ScramUserService.DefaultIterations, ct);
            return Results.NoContent();
        });

        api.MapDelete("/users/{user}", async (string user, string? mechanism, ConsoleAdmin console, CancellationToken ct) =>
        {
            await console.Admin.Users.DeleteAsync(user, ScramUserService.ParseMechanism(mechanism ?? "SCRAM-SHA-256"), ct);
            return Results.NoContent();
        });
    }

    /// <summary>
    /// Requests that change something must come from the console's own origin: a page elsewhere cannot make the browser
    /// create or delete anything here. Admin failures become a JSON error with an HTTP status matching their kind.
    /// </summary>
    private static async ValueTask<object?> GuardAndTranslateErrors(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !IsSameOrigin(request))
            return Results.Json(new ApiError("requests from another origin may not change anything", "forbidden"), statusCode: StatusCodes.Status403Forbidden);
        try
        {
            return await next(context);
        }
        catch (AdminException ex)
        {
            var (status, kind) = ex.Kind switch
            {
                AdminErrorKind.Invalid => (StatusCodes.Status400BadRequest, "invalid"),
                AdminErrorKind.NotFound => (StatusCodes.Status404NotFound, "not-found"),
                AdminErrorKind.Conflict => (StatusCodes.Status409Conflict, "conflict"),
                AdminErrorKind.Unsupported => (StatusCodes.Status501NotImplemented, "unsupported"),
                AdminErrorKind.Unreachable => (StatusCodes.Status503ServiceUnavailable, "unreachable"),
                AdminErrorKind.NotAuthorized => (StatusCodes.Status403Forbidden, "not-authorized"),
                _ => (StatusCodes.Status502BadGateway, "failed"),
            };
            return Results.Json(new ApiError(ex.Message, kind), statusCode: status);
        }
    }

    private static bool IsSameOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0) return true; // not a browser's cross-origin request (curl, tests, same-origin GET-like)
        return Uri.TryCreate(origin, UriKind.Absolute, out var uri) && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>An ISO-8601 time, or milliseconds since the epoch.</summary>
    private static DateTimeOffset ParseTime(string text)
    {
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)) return DateTimeOffset.FromUnixTimeMilliseconds(ms);
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)) return time;
        throw AdminException.Invalid($"'{text}' is not a time (ISO-8601 or milliseconds since the epoch)");
    }
}
