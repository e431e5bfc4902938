using System.CommandLine;
using Brook.Admin;

namespace Brook.Cli.Commands;

internal static class TopicCommands
{
    public static Command Create(CommandFactory commands) => CommandFactory.Group("topics", "List, describe, create, delete and change topics",
        List(commands), Describe(commands), CreateTopic(commands), Delete(commands), AlterConfig(commands), AddPartitions(commands));

    private static Command List(CommandFactory commands)
    {
        var excludeInternal = new Option<bool>("--exclude-internal") { Description = "Leave out internal topics such as __consumer_offsets" };
        return commands.Command("list", "List topics with their partition counts", [excludeInternal], async (ctx, ct) =>
        {
            var topics = await ctx.Admin.Topics.ListAsync(!ctx.Get(excludeInternal), ct).ConfigureAwait(false);
            ctx.Output.Table(["TOPIC", "PARTITIONS", "REPLICATION", "INTERNAL"],
                topics.Select(t => (IReadOnlyList<object?>)[t.Name, t.Partitions, t.ReplicationFactor, t.IsInternal]));
            return ExitCodes.Ok;
        });
    }

    private static Command Describe(CommandFactory commands)
    {
        var topics = new Argument<string[]>("topic") { Description = "Topics to describe", Arity = ArgumentArity.OneOrMore };
        return commands.Command("describe", "Show each partition's leader, replicas and start and end offsets", [topics], async (ctx, ct) =>
        {
            var rows = new List<IReadOnlyList<object?>>();
            foreach (var name in ctx.Get(topics))
            {
                var topic = await ctx.Admin.Topics.DescribeAsync(name, ct).ConfigureAwait(false);
                rows.AddRange(topic.Partitions.Select(p => (IReadOnlyList<object?>)
                    [topic.Name, p.Partition, p.Leader, string.Join(',', p.Replicas), string.Join(',', p.InSyncReplicas), p.StartOffset, p.EndOffset, p.Messages]));
            }
            ctx.Output.Table(["TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR", "START-OFFSET", "END-OFFSET", "MESSAGES"], rows);
            return ExitCodes.Ok;
        });
    }

    private static Command CreateTopic(CommandFactory commands)
    {
        var name = new Argument<string>("topic") { Description = "Name of the new topic" };
        var partitions = new Option<int>("--partitions", "-p") { Description = "Partition count (default: the broker's num.partitions)", DefaultValueFactory = _ => -1 };
        var replication = new Option<short>("--replication-factor", "-r") { Description = "Replicas per partition (default: the broker's)", DefaultValueFactory = _ => -1 };
        var configs = Shared.ConfigOption("--config", "A topic config name=value; repeat for more");
        var ifNotExists = new Option<bool>("--if-not-exists") { Description = "Succeed when the topic exists already" };
        var validateOnly = new Option<bool>("--validate-only") { Description = "Check the request with the cluster without creating anything" };
        return commands.Command("create", "Create a topic", [name, partitions, replication, configs, ifNotExists, validateOnly], async (ctx, ct) =>
        {
            var topic = new NewTopic(ctx.Get(name))
            {
                Partitions = ctx.Get(partitions),
                ReplicationFactor = ctx.Get(replication),
                Configs = Values.Pairs(ctx.Get(configs)),
            };
            try
            {
                await ctx.Admin.Topics.CreateAsync(topic, ctx.Get(validateOnly), ct).ConfigureAwait(false);
            }
            catch (AdminException ex) when (ex.Kind == AdminErrorKind.Conflict && ctx.Get(ifNotExists))
            {
                ctx.Output.Done($"topic '{topic.Name}' exists already");
                return ExitCodes.Ok;
            }
            ctx.Output.Done(ctx.Get(validateOnly) ? $"topic '{topic.Name}' would be created" : $"created topic '{topic.Name}'");
            return ExitCodes.Ok;
        });
    }

    private static Command Delete(CommandFactory commands)
    {
        var topics = new Argument<string[]>("topic") { Description = "Topics to delete", Arity = ArgumentArity.OneOrMore };
        var ifExists = new Option<bool>("--if-exists") { Description = "Succeed when a topic does not exist" };
        return commands.Command("delete", "Delete topics and their data", [topics, ifExists], async (ctx, ct) =>
        {
            foreach (var topic in ctx.Get(topics))
            {
                try
                {
                    await ctx.Admin.Topics.DeleteAsync([topic], ct).ConfigureAwait(false);
                    ctx.Output.Done($"deleted topic '{topic}'");
                }
                catch (AdminException ex) when (ex.Kind == AdminErrorKind.NotFound && ctx.Get(ifExists))
                {
                    ctx.Output.Done($"topic '{topic}' does not exist");
                }
            }
            return ExitCodes.Ok;
        });
    }

    private static Command AlterConfig(CommandFactory commands)
    {
        var topic = new Argument<string>("topic") { Description = "The topic to change" };
        var set = Shared.ConfigOption("--set", "A config to set, name=value; repeat for more");
        var delete = new Option<string[]>("--delete") { Description = "A config override to remove (back to its default); repeat for more", AllowMultipleArgumentsPerToken = false };
        var command = commands.Command("alter-config", "Set or remove topic config overrides; others are kept", [topic, set, delete], async (ctx, ct) =>
        {
            var name = ctx.Get(topic);
            await ctx.Admin.Topics.AlterConfigAsync(name, Values.Pairs(ctx.Get(set)), ctx.Get(delete) ?? [], ct).ConfigureAwait(false);
            ctx.Output.Done($"altered configs of topic '{name}'");
            return ExitCodes.Ok;
        });
        Shared.RequireAny(command, set, delete);
        return command;
    }

    private static Command AddPartitions(CommandFactory commands)
    {
        var topic = new Argument<string>("topic") { Description = "The topic to grow" };
        var total = new Option<int>("--partitions", "-p") { Description = "The new total partition count (more than now)", Required = true };
        return commands.Command("add-partitions", "Grow a topic to more partitions", [topic, total], async (ctx, ct) =>
        {
            var name = ctx.Get(topic);
            await ctx.Admin.Topics.AddPartitionsAsync(name, ctx.Get(total), ct).ConfigureAwait(false);
            ctx.Output.Done($"topic '{name}' now has {ctx.Get(total)} partitions");
            return ExitCodes.Ok;
        });
    }
}
