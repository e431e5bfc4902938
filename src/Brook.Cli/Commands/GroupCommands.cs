using System.CommandLine;
using Brook.Admin;

namespace Brook.Cli.Commands;

internal static class GroupCommands
{
    public static Command Create(CommandFactory commands) => CommandFactory.Group("groups", "Consumer groups: list, describe with lag, reset offsets, delete",
        List(commands), Describe(commands), ResetOffsets(commands), Delete(commands));

    private static Command List(CommandFactory commands) =>
        commands.Command("list", "List consumer groups and their states", [], async (ctx, ct) =>
        {
            var groups = await ctx.Admin.Groups.ListAsync(ct).ConfigureAwait(false);
            ctx.Output.Table(["GROUP", "STATE", "TYPE"], groups.Select(g => (IReadOnlyList<object?>)[g.GroupId, g.State, g.Type]));
            return ExitCodes.Ok;
        });

    private static Command Describe(CommandFactory commands)
    {
        var group = new Argument<string>("group") { Description = "The consumer group" };
        var members = new Option<bool>("--members") { Description = "Show members and their assignments instead of offsets" };
        var state = new Option<bool>("--state") { Description = "Show the group's state, assignor, coordinator and member count instead of offsets" };
        return commands.Command("describe", "Show a group's committed offsets and lag per partition (or its members, or its state)", [group, members, state], async (ctx, ct) =>
        {
            var description = await ctx.Admin.Groups.DescribeAsync(ctx.Get(group), ct).ConfigureAwait(false);
            if (ctx.Get(state))
            {
                ctx.Output.Table(["GROUP", "COORDINATOR", "ASSIGNOR", "STATE", "MEMBERS", "TOTAL-LAG"],
                    [[description.GroupId, description.Coordinator, description.PartitionAssignor, description.State, description.Members.Count, description.TotalLag]]);
            }
            else if (ctx.Get(members))
            {
                ctx.Output.Table(["GROUP", "MEMBER-ID", "INSTANCE-ID", "CLIENT-ID", "HOST", "PARTITIONS", "ASSIGNMENT"],
                    description.Members.Select(m => (IReadOnlyList<object?>)[description.GroupId, m.MemberId, m.InstanceId, m.ClientId, m.Host, m.Assignment.Count,
                        string.Join(',', m.Assignment.Select(tp => $"{tp.Topic}-{tp.Partition.Value}"))]));
            }
            else
            {
                if (ctx.Output.Interactive)
                    ctx.Output.Properties([("Group", description.GroupId), ("State", description.State), ("Members", description.Members.Count), ("Total lag", description.TotalLag)]);
                ctx.Output.Table(["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"],
                    description.Partitions.Select(p => (IReadOnlyList<object?>)
                        [description.GroupId, p.Topic, p.Partition, p.CommittedOffset, p.EndOffset, p.Lag, p.Member?.MemberId, p.Member?.Host, p.Member?.ClientId]));
            }
            return ExitCodes.Ok;
        });
    }

    private static Command ResetOffsets(CommandFactory commands)
    {
        var group = new Argument<string>("group") { Description = "The consumer group (its consumers must be stopped to --execute)" };
        var topics = new Option<string[]>("--topic", "-t")
        {
            Description = "A topic to reset, or topic:0,1 for some partitions; repeat for more",
            AllowMultipleArgumentsPerToken = false,
        };
        var allTopics = new Option<bool>("--all-topics") { Description = "Every topic the group has committed offsets for" };
        var toEarliest = new Option<bool>("--to-earliest") { Description = "Move to the start of each partition" };
        var toLatest = new Option<bool>("--to-latest") { Description = "Move to the end of each partition (skip everything)" };
        var toDateTime = new Option<DateTimeOffset>("--to-datetime")
        {
            Description = "Move to the first message at or after a time (2024-05-01T12:00:00Z, epoch ms, or -1h)",
            CustomParser = r => GlobalOptions.Parse(r, t => Values.DateTime(t)),
        };
        var toOffset = new Option<long>("--to-offset") { Description = "Move to this offset (clamped to each partition's range)" };
        var shiftBy = new Option<long>("--shift-by") { Description = "Move the committed offset by N (negative goes back)" };
        var execute = new Option<bool>("--execute") { Description = "Apply the plan; without it nothing changes (dry run)" };
        var command = commands.Command("reset-offsets", "Plan (dry run, the default) or apply a move of a group's committed offsets",
            [group, topics, allTopics, toEarliest, toLatest, toDateTime, toOffset, shiftBy, execute], async (ctx, ct) =>
            {
                OffsetReset reset =
                    ctx.Has(toEarliest) ? OffsetReset.ToEarliest()
                    : ctx.Has(toLatest) ? OffsetReset.ToLatest()
                    : ctx.Has(toDateTime) ? OffsetReset.ToDateTime(ctx.Get(toDateTime))
                    : ctx.Has(toOffset) ? OffsetReset.ToOffset(ctx.Get(toOffset))
                    : OffsetReset.ShiftBy(ctx.Get(shiftBy));
                IReadOnlyList<TopicSelection>? selection = ctx.Get(allTopics) ? null : ParseSelections(ctx.Get(topics));
                var plan = await ctx.Admin.Groups.PlanResetAsync(ctx.Get(group), selection, reset, ct).ConfigureAwait(false);
                if (ctx.Get(execute)) await ctx.Admin.Groups.ApplyResetAsync(plan, ct).ConfigureAwait(false);
                ctx.Output.Table(["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"],
                    plan.Partitions.Select(p => (IReadOnlyList<object?>)[plan.GroupId, p.Topic, p.Partition, p.CurrentOffset, p.NewOffset]));
                if (ctx.Get(execute))
                {
                    ctx.Output.Note($"reset {plan.Partitions.Count} partition(s) of group '{plan.GroupId}'");
                }
                else
                {
                    ctx.Output.Note("dry run: nothing changed; add --execute to apply");
                    if (plan.ActiveMembers > 0)
                        ctx.Output.Note($"group '{plan.GroupId}' has {plan.ActiveMembers} active member(s); --execute is refused until they stop");
                }
                return ExitCodes.Ok;
            });
        Shared.RequireOne(command, toEarliest, toLatest, toDateTime, toOffset, shiftBy);
        Shared.RequireOne(command, topics, allTopics);
        return command;
    }

    private static Command Delete(CommandFactory commands)
    {
        var groups = new Argument<string[]>("group") { Description = "Groups to delete (they must have no active members)", Arity = ArgumentArity.OneOrMore };
        return commands.Command("delete", "Delete consumer groups and their committed offsets", [groups], async (ctx, ct) =>
        {
            foreach (var group in ctx.Get(groups))
            {
                await ctx.Admin.Groups.DeleteAsync([group], ct).ConfigureAwait(false);
                ctx.Output.Done($"deleted group '{group}'");
            }
            return ExitCodes.Ok;
        });
    }

    private static List<TopicSelection> ParseSelections(string[]? texts)
    {
        try
        {
            return (texts ?? []).Select(Values.TopicSelection).ToList();
        }
        catch (FormatException ex)
        {
            throw new UsageException(ex.Message);
        }
    }
}
