using Brook.Broker.Handlers;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Microsoft.Extensions.DependencyInjection;

namespace Brook.Broker.Tests.Groups;

/// <summary>Group APIs at the protocol level, for the versions and shapes clients in the tests do not exercise.</summary>
public sealed class GroupHandlerTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await BrookBroker.StartAsync(new BrokerOptions
    {
        Listeners = ["PLAINTEXT://127.0.0.1:0"],
        InMemory = true,
        Configs = { ["group.initial.rebalance.delay.ms"] = "0" },
    });

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private async Task<TResponse> SendAsync<TResponse>(IApiMessage request, short version)
    {
        var handler = _broker.Services.GetServices<IRequestHandler>().Single(h => h.ApiKey == request.ApiKey);
        using var context = new RequestContext
        {
            Header = new RequestHeader { ApiKey = request.ApiKey, ApiVersion = version, ClientId = "handler-test" },
            RemoteEndPoint = null,
            ConnectionId = "test",
        };
        return (TResponse)(await handler.HandleAsync(context, request, default))!;
    }

    [Fact]
    public async Task FindCoordinator_answers_this_node_for_single_and_batched_keys_of_groups_and_transactions()
    {
        var endpoint = _broker.Node.EndpointFor(null);
        var single = await SendAsync<FindCoordinatorResponse>(new FindCoordinatorRequest { Key = "g", KeyType = 0 }, 3);
        Assert.Equal(0, single.ErrorCode);
        Assert.Equal((_broker.Node.NodeId, endpoint.Host, endpoint.Port), (single.NodeId, single.Host, single.Port));

        var batched = await SendAsync<FindCoordinatorResponse>(new FindCoordinatorRequest { KeyType = 1, CoordinatorKeys = ["tx-a", "tx-b"] }, 4);
        Assert.Equal(["tx-a", "tx-b"], batched.Coordinators.Select(c => c.Key));
        Assert.All(batched.Coordinators, c => Assert.Equal((0, _broker.Node.NodeId, endpoint.Port), (c.ErrorCode, c.NodeId, c.Port)));

        var unknownType = await SendAsync<FindCoordinatorResponse>(new FindCoordinatorRequest { KeyType = 7, CoordinatorKeys = ["x"] }, 4);
        Assert.Equal((short)ErrorCode.InvalidRequest, unknownType.Coordinators[0].ErrorCode);
    }

    private async Task<string> JoinAsync(string group, string? instanceId, string memberId = "")
    {
        var join = new JoinGroupRequest
        {
            GroupId = group,
            GroupInstanceId = instanceId,
            MemberId = memberId,
            SessionTimeoutMs = 30_000,
            ProtocolType = "consumer",
            Protocols = [new JoinGroupRequest.JoinGroupRequestProtocol { Name = "range", Metadata = [0, 0] }],
        };
        var joined = await SendAsync<JoinGroupResponse>(join, 5);
        if (joined.ErrorCode == (short)ErrorCode.MemberIdRequired)
        {
            join.MemberId = joined.MemberId;
            joined = await SendAsync<JoinGroupResponse>(join, 5);
        }
        Assert.Equal(0, joined.ErrorCode);
        return joined.MemberId;
    }

    [Fact]
    public async Task LeaveGroup_v3_removes_several_members_by_member_id_or_instance_id()
    {
        var dynamicMember = await JoinAsync("leavers", null);
        var staticMemberJoin = JoinAsync("leavers", "static-1"); // waits until the dynamic member rejoined
        var rejoin = JoinAsync("leavers", null, dynamicMember);
        await Task.WhenAll(staticMemberJoin, rejoin);

        var response = await SendAsync<LeaveGroupResponse>(new LeaveGroupRequest
        {
            GroupId = "leavers",
            Members =
            [
                new LeaveGroupRequest.MemberIdentity { MemberId = dynamicMember },
                new LeaveGroupRequest.MemberIdentity { MemberId = "", GroupInstanceId = "static-1" },
                new LeaveGroupRequest.MemberIdentity { MemberId = "nobody" },
            ],
        }, 3);

        Assert.Equal([0, 0, (short)ErrorCode.UnknownMemberId], response.Members.Select(m => m.ErrorCode));
        var described = await SendAsync<DescribeGroupsResponse>(new DescribeGroupsRequest { Groups = ["leavers"] }, 5);
        Assert.Empty(described.Groups[0].Members);
    }

    [Fact]
    public async Task ListGroups_filters_by_state_and_type()
    {
        await JoinAsync("rebalancing", null);
        await Clients.CreateTopicAsync(_broker, "t", 1);
        await SendAsync<OffsetCommitResponse>(new OffsetCommitRequest
        {
            GroupId = "offsets-only",
            Topics = [new OffsetCommitRequest.OffsetCommitRequestTopic { Name = "t", Partitions = [new OffsetCommitRequest.OffsetCommitRequestPartition { CommittedOffset = 1 }] }],
        }, 8);

        var all = await SendAsync<ListGroupsResponse>(new ListGroupsRequest(), 5);
        Assert.Equal(["offsets-only", "rebalancing"], all.Groups.Select(g => g.GroupId).Order());
        var empty = await SendAsync<ListGroupsResponse>(new ListGroupsRequest { StatesFilter = ["Empty"] }, 4);
        Assert.Equal(["offsets-only"], empty.Groups.Select(g => g.GroupId));
        var consumerType = await SendAsync<ListGroupsResponse>(new ListGroupsRequest { TypesFilter = ["consumer"] }, 5);
        Assert.Empty(consumerType.Groups);
        var classic = await SendAsync<ListGroupsResponse>(new ListGroupsRequest { TypesFilter = ["classic"] }, 5);
        Assert.Equal(2, classic.Groups.Count);
    }
}
