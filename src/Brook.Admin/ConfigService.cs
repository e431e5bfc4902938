using System.Text;
using Confluent.Kafka.Admin;

namespace Brook.Admin;

public enum ConfigEntityType
{
    Topic,
    Broker,
}

/// <summary>Something that has configs: a topic by name, or a broker by id.</summary>
public sealed record ConfigEntity(ConfigEntityType Type, string Name)
{
    public static ConfigEntity Topic(string name) => new(ConfigEntityType.Topic, name);

    public static ConfigEntity Broker(int id) => new(ConfigEntityType.Broker, id.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public override string ToString() => Type == ConfigEntityType.Topic ? $"topic '{Name}'" : $"broker {Name}";
}

/// <summary>One config with where its value comes from, in Kafka's source names (DYNAMIC_TOPIC_CONFIG, DEFAULT_CONFIG, ...).</summary>
public sealed record ConfigValue(string Name, string? Value, string Source, bool IsDefault, bool IsReadOnly, bool IsSensitive);

/// <summary>Topic and broker configs: describe and incremental alter.</summary>
public sealed class ConfigService
{
    private readonly KafkaAdmin _admin;

    internal ConfigService(KafkaAdmin admin) => _admin = admin;

    public async Task<IReadOnlyList<ConfigValue>> DescribeAsync(ConfigEntity entity, CancellationToken cancellationToken = default)
    {
        var results = await _admin.CallAsync(
            c => c.DescribeConfigsAsync([Resource(entity)], new DescribeConfigsOptions { RequestTimeout = _admin.Timeout }),
            $"describe configs of {entity}", cancellationToken,
            ex => ex is DescribeConfigsException e ? KafkaAdmin.FirstError(e.Results, r => r.Error, _ => NotFoundContext(entity)) : null).ConfigureAwait(false);
        return results[0].Entries.Values
            .Select(e => new ConfigValue(e.Name, e.Value, SourceName(e.Source), e.IsDefault, e.IsReadOnly, e.IsSensitive))
            .OrderBy(v => v.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Configs of several entities in one request. Entities the cluster answered with an error (deleted meanwhile, say)
    /// are left out of the result rather than failing the others.
    /// </summary>
    public async Task<IReadOnlyDictionary<ConfigEntity, IReadOnlyList<ConfigValue>>> DescribeManyAsync(IReadOnlyCollection<ConfigEntity> entities,
        CancellationToken cancellationToken = default)
    {
        if (entities.Count == 0) return new Dictionary<ConfigEntity, IReadOnlyList<ConfigValue>>();
        var resources = entities.Distinct().Select(Resource).ToList();
        var options = new DescribeConfigsOptions { RequestTimeout = _admin.Timeout };
        async Task<List<(ConfigResource Resource, Dictionary<string, ConfigEntryResult> Entries)>> Describe(Confluent.Kafka.IAdminClient client)
        {
            try
            {
                var described = await client.DescribeConfigsAsync(resources, options).ConfigureAwait(false);
                return described.Select(r => (r.ConfigResource, r.Entries)).ToList();
            }
            catch (DescribeConfigsException e)
            {
                return e.Results.Where(r => !r.Error.IsError).Select(r => (r.ConfigResource, r.Entries)).ToList();
            }
        }
        var results = await _admin.CallAsync(Describe, "describe configs", cancellationToken).ConfigureAwait(false);
        return results.ToDictionary(
            r => new ConfigEntity(r.Resource.Type == ResourceType.Topic ? ConfigEntityType.Topic : ConfigEntityType.Broker, r.Resource.Name),
            r => (IReadOnlyList<ConfigValue>)r.Entries.Values
                .Select(e => new ConfigValue(e.Name, e.Value, SourceName(e.Source), e.IsDefault, e.IsReadOnly, e.IsSensitive))
                .OrderBy(v => v.Name, StringComparer.Ordinal)
                .ToList());
    }

    /// <summary>Sets <paramref name="set"/> and removes the overrides in <paramref name="delete"/> (back to their defaults); other configs are untouched.</summary>
    public Task AlterAsync(ConfigEntity entity, IReadOnlyDictionary<string, string> set, IReadOnlyList<string> delete, CancellationToken cancellationToken = default)
    {
        if (set.Count == 0 && delete.Count == 0) throw AdminException.Invalid("nothing to alter: give at least one config to set or delete");
        var overlap = delete.FirstOrDefault(set.ContainsKey);
        if (overlap is not null) throw AdminException.Invalid($"config '{overlap}' is both set and deleted");
        var entries = set.Select(kv => new ConfigEntry { Name = kv.Key, Value = kv.Value, IncrementalOperation = AlterConfigOpType.Set })
            .Concat(delete.Select(name => new ConfigEntry { Name = name, IncrementalOperation = AlterConfigOpType.Delete }))
            .ToList();
        return _admin.CallAsync(
            c => c.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>> { [Resource(entity)] = entries },
                new IncrementalAlterConfigsOptions { RequestTimeout = _admin.Timeout }),
            $"alter configs of {entity}", cancellationToken,
            ex => ex is IncrementalAlterConfigsException e ? KafkaAdmin.FirstError(e.Results, r => r.Error, _ => NotFoundContext(entity)) : null);
    }

    private static string NotFoundContext(ConfigEntity entity) => entity.ToString();

    private static ConfigResource Resource(ConfigEntity entity) => new()
    {
        Type = entity.Type == ConfigEntityType.Topic ? ResourceType.Topic : ResourceType.Broker,
        Name = entity.Name,
    };

    /// <summary>Kafka's spelling of a config source: DynamicTopicConfig becomes DYNAMIC_TOPIC_CONFIG.</summary>
    internal static string SourceName(ConfigSource source)
    {
        var name = source.ToString();
        var result = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i])) result.Append('_');
            result.Append(char.ToUpperInvariant(name[i]));
        }
        return result.ToString();
    }
}
