using System.Reflection;
using Brook.Protocol.Messages;

namespace Brook.Protocol.Tests.Messages;

/// <summary>The round-trip tests are only as good as the filler, so check that it really varies every field.</summary>
public class MessageFillerTests
{
    [Fact]
    public void Every_property_of_nested_structs_gets_a_non_default_value_across_seeds()
    {
        var seen = new HashSet<string>();
        for (var seed = 0; seed < 200; seed++)
        {
            var response = new MessageFiller(seed).Fill(new FetchResponse());
            foreach (var topic in response.Responses)
            {
                Record(topic, seen);
                foreach (var partition in topic.Partitions)
                {
                    Record(partition, seen);
                    if (partition.CurrentLeader is { } leader) Record(leader, seen);
                }
            }
            Record(response, seen);
        }
        var expected = new[] { typeof(FetchResponse), typeof(FetchResponse.FetchableTopicResponse), typeof(FetchResponse.PartitionData), typeof(FetchResponse.LeaderIdAndEpoch) }
            .SelectMany(t => t.GetProperties().Where(p => p.CanWrite && p.Name != "UnknownTaggedFields").Select(p => $"{t.Name}.{p.Name}"));
        Assert.All(expected, name => Assert.Contains(name, seen));
    }

    [Fact]
    public void Nullable_properties_are_sometimes_null_and_strings_include_non_ascii()
    {
        var nullRecords = 0;
        var nonAscii = 0;
        for (var seed = 0; seed < 200; seed++)
        {
            var request = new MessageFiller(seed).Fill(new ProduceRequest());
            if (request.TransactionalId is { } id && id.Any(c => c > 127)) nonAscii++;
            nullRecords += request.TopicData.SelectMany(t => t.PartitionData).Count(p => p.Records is null);
        }
        Assert.True(nullRecords > 0);
        Assert.True(nonAscii > 0);
    }

    private static void Record(object instance, HashSet<string> seen)
    {
        foreach (var property in instance.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!property.CanWrite) continue;
            var fresh = Activator.CreateInstance(instance.GetType())!;
            var value = property.GetValue(instance);
            var initial = property.GetValue(fresh);
            var differs = value switch
            {
                System.Collections.ICollection c => c.Count > 0,
                ReadOnlyMemory<byte> m => m.Length > 0,
                _ => !Equals(value, initial),
            };
            if (differs) seen.Add($"{instance.GetType().Name}.{property.Name}");
        }
    }
}
