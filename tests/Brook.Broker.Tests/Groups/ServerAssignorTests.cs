using Brook.Broker.Groups;

namespace Brook.Broker.Tests.Groups;

public sealed class ServerAssignorTests
{
    private static ConsumerGroupModel Group(string assignor, params (string Id, string[] Topics)[] members)
    {
        var group = new ConsumerGroupModel { Assignor = assignor };
        foreach (var (id, topics) in members) group.Members[id] = new ConsumerMember { MemberId = id, SubscribedTopics = [.. topics] };
        return group;
    }

    private static string[] Owned(ConsumerGroupModel group, string member) =>
        group.Members[member].Target.All.Select(tp => $"{tp.Topic}-{tp.Partition}").ToArray();

    [Fact]
    public void Range_gives_each_member_a_contiguous_range_of_every_topic_it_subscribes_to()
    {
        var group = Group(ServerAssignors.Range, ("a", ["x", "y"]), ("b", ["x", "y"]));
        ServerAssignors.Assign(group, new Dictionary<string, int> { ["x"] = 3, ["y"] = 2 });
        Assert.Equal(["x-0", "x-1", "y-0"], Owned(group, "a"));
        Assert.Equal(["x-2", "y-1"], Owned(group, "b"));
    }

    [Fact]
    public void Uniform_balances_and_keeps_partitions_where_they_were_when_a_member_joins()
    {
        var group = Group(ServerAssignors.Uniform, ("a", ["x"]), ("b", ["x"]));
        var counts = new Dictionary<string, int> { ["x"] = 6 };
        ServerAssignors.Assign(group, counts);
        Assert.Equal(3, Owned(group, "a").Length);
        Assert.Equal(3, Owned(group, "b").Length);
        var before = Owned(group, "a").Concat(Owned(group, "b")).ToHashSet();
        Assert.Equal(6, before.Count);

        var previousA = Owned(group, "a");
        var previousB = Owned(group, "b");
        group.Members["c"] = new ConsumerMember { MemberId = "c", SubscribedTopics = ["x"] };
        ServerAssignors.Assign(group, counts);
        Assert.All(new[] { "a", "b", "c" }, m => Assert.Equal(2, Owned(group, m).Length));
        // Only partitions that had to move for c moved: a and b keep a subset of what they had.
        Assert.Subset(previousA.ToHashSet(), Owned(group, "a").ToHashSet());
        Assert.Subset(previousB.ToHashSet(), Owned(group, "b").ToHashSet());
    }

    [Fact]
    public void Uniform_only_assigns_a_topic_to_members_subscribed_to_it()
    {
        var group = Group(ServerAssignors.Uniform, ("a", ["x"]), ("b", ["y"]));
        ServerAssignors.Assign(group, new Dictionary<string, int> { ["x"] = 2, ["y"] = 2 });
        Assert.Equal(["x-0", "x-1"], Owned(group, "a"));
        Assert.Equal(["y-0", "y-1"], Owned(group, "b"));
    }
    [Fact]
    public void A_group_stored_in_the_first_format_still_decodes()
    {
        // Version 0 of the stored model, as written before regular-expression subscriptions existed.
        using var w = new Brook.Protocol.ProtocolWriter();
        w.WriteInt16(0);
        w.WriteInt32(4); // group epoch
        w.WriteInt32(4); // assignment epoch
        w.WriteString("range", false, false);
        w.WriteInt64(0);
        w.WriteInt32(1);
        w.WriteString("x", false, false);
        w.WriteInt32(2);
        w.WriteInt32(1);
        w.WriteString("m", false, false);
        w.WriteString(null, false, true);
        w.WriteString(null, false, true);
        w.WriteString("client", false, false);
        w.WriteString("/127.0.0.1", false, false);
        w.WriteInt32(4);
        w.WriteInt32(3);
        w.WriteInt32(30_000);
        w.WriteInt32(1);
        w.WriteString("x", false, false);
        var both = new TopicPartitionSet();
        both.Add("x", 0);
        both.Add("x", 1);
        both.Write(w);
        both.Write(w);
        new TopicPartitionSet().Write(w);

        var model = ConsumerGroupModel.Decode(w.WrittenSpan.ToArray())!;
        var member = Assert.Single(model.Members.Values);
        Assert.Equal(["x"], member.SubscribedTopics);
        Assert.Null(member.SubscribedRegex);
        Assert.Equal("x:0,1", member.Assigned.Key);
        Assert.Equal(ServerAssignors.Range, model.Assignor);
        // Written back in the current format, it round-trips.
        Assert.Equal(model.Encode(), ConsumerGroupModel.Decode(model.Encode())!.Encode());
    }
}
