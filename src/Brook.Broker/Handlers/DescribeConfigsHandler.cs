using System.Globalization;
using Brook.Broker.Configuration;
using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;

namespace Brook.Broker.Handlers;

/// <summary>
/// DescribeConfigs (key 32) for topics and the broker (its id: every broker config; the empty name: the cluster-wide
/// dynamic defaults). v1: config sources and synonyms, listed only when asked for; v3: value types and documentation;
/// v4: flexible. Needs DESCRIBE_CONFIGS on the topic, or on the cluster for broker configs.
/// </summary>
public sealed class DescribeConfigsHandler(ILogStore store, BrokerConfig config, BrokerNode node, BrokerOptions options, Network.ConnectionLimits limits)
    : RequestHandler<DescribeConfigsRequest, DescribeConfigsResponse>
{
    protected override ValueTask<DescribeConfigsResponse?> HandleAsync(RequestContext context, DescribeConfigsRequest request, CancellationToken cancellationToken)
    {
        var response = new DescribeConfigsResponse();
        foreach (var resource in request.Resources)
        {
            var result = new DescribeConfigsResponse.DescribeConfigsResult { ResourceType = resource.ResourceType, ResourceName = resource.ResourceName };
            response.Results.Add(result);
            if (ConfigAuthorization.Check(context, resource.ResourceType, resource.ResourceName, AclOperation.DescribeConfigs) is not ErrorCode.None and var denied)
            {
                result.ErrorCode = (short)denied;
                result.ErrorMessage = "Not authorized to describe these configs.";
                continue;
            }
            IEnumerable<DescribeConfigsResponse.DescribeConfigsResourceResult> entries;
            switch (resource.ResourceType)
            {
                case ConfigResourceType.Topic:
                    var topic = store.GetTopic(resource.ResourceName);
                    if (topic is null)
                    {
                        result.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
                        result.ErrorMessage = $"Topic '{resource.ResourceName}' does not exist.";
                        continue;
                    }
                    entries = config.DescribeTopic(topic).Select(e => Convert(e, request));
                    break;
                case ConfigResourceType.Broker:
                    if (resource.ResourceName.Length > 0 && resource.ResourceName != node.NodeId.ToString(CultureInfo.InvariantCulture))
                    {
                        result.ErrorCode = (short)ErrorCode.InvalidRequest;
                        result.ErrorMessage = $"This is broker {node.NodeId}.";
                        continue;
                    }
                    entries = DescribeBroker(request, clusterDefault: resource.ResourceName.Length == 0);
                    break;
                default:
                    result.ErrorCode = (short)ErrorCode.InvalidRequest;
                    result.ErrorMessage = $"Resource type {resource.ResourceType} has no configs here.";
                    continue;
            }
            var keys = resource.ConfigurationKeys is { Count: > 0 } k ? k.ToHashSet(StringComparer.Ordinal) : null;
            result.Configs.AddRange(keys is null ? entries : entries.Where(e => keys.Contains(e.Name)));
        }
        return ValueTask.FromResult<DescribeConfigsResponse?>(response);
    }

    private static DescribeConfigsResponse.DescribeConfigsResourceResult Convert(ConfigEntry entry, DescribeConfigsRequest request)
    {
        var result = new DescribeConfigsResponse.DescribeConfigsResourceResult
        {
            Name = entry.Name,
            Value = entry.Value,
            ReadOnly = entry.IsReadOnly,
            IsDefault = entry.IsDefault,
            ConfigSource = (sbyte)entry.Source,
            IsSensitive = entry.IsSensitive,
            ConfigType = ConfigTypeCode.From(entry.Type),
            Documentation = request.IncludeDocumentation ? entry.Documentation : null,
        };
        if (request.IncludeSynonyms)
        {
            foreach (var s in entry.Synonyms)
                result.Synonyms.Add(new DescribeConfigsResponse.DescribeConfigsSynonym { Name = s.Name, Value = s.Value, Source = (sbyte)s.Source });
        }
        return result;
    }

    /// <summary>
    /// This broker's configs (every setting Brook knows, with its effective value and where it comes from), or for the
    /// empty name the cluster-wide dynamic defaults only, as Kafka describes them.
    /// </summary>
    private IEnumerable<DescribeConfigsResponse.DescribeConfigsResourceResult> DescribeBroker(DescribeConfigsRequest request, bool clusterDefault)
    {
        if (clusterDefault)
        {
            foreach (var (name, value) in config.Dynamic.ClusterDefaults.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                var definition = BrokerConfigDefinitions.Find(name);
                var synonyms = new[] { new ConfigSynonymEntry(name, value, ConfigSource.DynamicDefaultBroker) };
                yield return Describe(name, value, ConfigSource.DynamicDefaultBroker, definition, synonyms, request);
            }
            yield break;
        }
        var effective = RunningValues();
        foreach (var definition in BrokerConfigDefinitions.All)
        {
            var synonyms = config.Layers(definition.Name).ToList();
            if (definition.DefaultValue is { } fallback && synonyms.All(s => s.Source != ConfigSource.Default))
                synonyms.Add(new ConfigSynonymEntry(definition.Name, fallback, ConfigSource.Default));
            var source = synonyms.Count > 0 ? synonyms[0].Source : ConfigSource.Default;
            if (effective.TryGetValue(definition.Name, out var running) && source == ConfigSource.Default && running.Static) source = ConfigSource.Broker;
            var value = effective.TryGetValue(definition.Name, out var known) ? known.Value : synonyms.Count > 0 ? synonyms[0].Value : definition.DefaultValue;
            yield return Describe(definition.Name, value, source, definition, synonyms, request);
        }
    }

    /// <summary>Values the running broker took from its options or derived at start, not only from the config map.</summary>
    private Dictionary<string, (string Value, bool Static)> RunningValues()
    {
        var id = node.NodeId.ToString(CultureInfo.InvariantCulture);
        return new Dictionary<string, (string, bool)>(StringComparer.Ordinal)
        {
            ["node.id"] = (id, false),
            ["broker.id"] = (id, false),
            ["listeners"] = (string.Join(",", options.Listeners), true),
            ["advertised.listeners"] = (string.Join(",", node.AdvertisedListeners), true),
            ["log.dirs"] = (options.InMemory ? "" : options.DataDirectory, true),
            ["socket.request.max.bytes"] = (limits.MaxRequestBytes.ToString(CultureInfo.InvariantCulture), false),
            ["max.connections"] = (limits.MaxConnections.ToString(CultureInfo.InvariantCulture), false),
            ["max.connections.per.ip"] = (limits.MaxConnectionsPerIp.ToString(CultureInfo.InvariantCulture), false),
            ["queued.max.request.bytes"] = ((limits.QueuedMaxRequestBytes == long.MaxValue ? -1 : limits.QueuedMaxRequestBytes).ToString(CultureInfo.InvariantCulture), false),
            ["connections.max.idle.ms"] = (((long)limits.IdleTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture), false),
        };
    }

    private static DescribeConfigsResponse.DescribeConfigsResourceResult Describe(string name, string? value, ConfigSource source, BrokerConfigDefinition? definition,
        IReadOnlyList<ConfigSynonymEntry> synonyms, DescribeConfigsRequest request)
    {
        var sensitive = definition?.IsSensitive ?? false;
        var result = new DescribeConfigsResponse.DescribeConfigsResourceResult
        {
            Name = name,
            Value = sensitive ? null : value,
            ReadOnly = definition is null || !definition.IsDynamic,
            IsDefault = source == ConfigSource.Default,
            ConfigSource = (sbyte)source,
            IsSensitive = sensitive,
            ConfigType = ConfigTypeCode.From(definition?.Type ?? ConfigValueType.String),
            Documentation = request.IncludeDocumentation ? definition?.Documentation : null,
        };
        if (request.IncludeSynonyms)
        {
            foreach (var s in synonyms)
                result.Synonyms.Add(new DescribeConfigsResponse.DescribeConfigsSynonym { Name = s.Name, Value = sensitive ? null : s.Value, Source = (sbyte)s.Source });
        }
        return result;
    }
}
