using System.Globalization;
using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;

namespace Brook.Broker.Handlers;

/// <summary>
/// DescribeConfigs (key 32) for topics and the broker. v1: config sources and synonyms; v3: value types and
/// documentation; v4: flexible. Needs DESCRIBE_CONFIGS on the topic, or on the cluster for broker configs.
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
                    entries = DescribeBroker(request);
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

    /// <summary>The broker's own settings plus the broker-level defaults of every topic config.</summary>
    private IEnumerable<DescribeConfigsResponse.DescribeConfigsResourceResult> DescribeBroker(DescribeConfigsRequest request)
    {
        var fixedEntries = new (string Name, string Value, bool ReadOnly, ConfigValueType Type)[]
        {
            ("node.id", node.NodeId.ToString(CultureInfo.InvariantCulture), true, ConfigValueType.Int),
            ("broker.id", node.NodeId.ToString(CultureInfo.InvariantCulture), true, ConfigValueType.Int),
            ("listeners", string.Join(",", options.Listeners), true, ConfigValueType.String),
            ("advertised.listeners", string.Join(",", node.AdvertisedListeners), true, ConfigValueType.String),
            ("log.dirs", options.InMemory ? "" : options.DataDirectory, true, ConfigValueType.String),
            ("auto.create.topics.enable", config.AutoCreateTopics ? "true" : "false", false, ConfigValueType.Boolean),
            ("num.partitions", config.DefaultPartitions.ToString(CultureInfo.InvariantCulture), false, ConfigValueType.Int),
            ("default.replication.factor", "1", true, ConfigValueType.Int),
            ("socket.request.max.bytes", limits.MaxRequestBytes.ToString(CultureInfo.InvariantCulture), true, ConfigValueType.Int),
            ("max.connections", limits.MaxConnections.ToString(CultureInfo.InvariantCulture), true, ConfigValueType.Int),
            ("max.connections.per.ip", limits.MaxConnectionsPerIp.ToString(CultureInfo.InvariantCulture), true, ConfigValueType.Int),
            ("queued.max.request.bytes", (limits.QueuedMaxRequestBytes == long.MaxValue ? -1 : limits.QueuedMaxRequestBytes).ToString(CultureInfo.InvariantCulture), true, ConfigValueType.Long),
            ("connections.max.idle.ms", ((long)limits.IdleTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture), true, ConfigValueType.Long),
        };
        foreach (var (name, value, readOnly, type) in fixedEntries)
        {
            var source = config.Get(name) is null ? ConfigSource.Default : ConfigSource.Broker;
            var entry = Convert(new ConfigEntry(name, value, source, type, "", []), request);
            entry.ReadOnly = readOnly;
            yield return entry;
        }
        foreach (var definition in TopicConfigs.All)
        {
            var synonym = definition.BrokerSynonyms.FirstOrDefault(s => config.Get(s.Name) is not null)
                ?? definition.BrokerSynonyms.FirstOrDefault(s => s.Multiplier == 1);
            if (synonym is null) continue;
            var set = config.Get(synonym.Name);
            var value = set ?? definition.DefaultValue;
            yield return Convert(new ConfigEntry(synonym.Name, value, set is null ? ConfigSource.Default : ConfigSource.Broker, definition.Type, definition.Documentation, []), request);
        }
    }
}
