using System.CommandLine;
using Brook.Admin;

namespace Brook.Cli.Commands;

internal static class ConfigCommands
{
    public static Command Create(CommandFactory commands) => CommandFactory.Group("configs", "Topic and broker configs: describe and alter",
        Describe(commands), Alter(commands));

    private static Command Describe(CommandFactory commands)
    {
        var (topic, broker) = EntityOptions();
        var all = new Option<bool>("--all") { Description = "Every config, defaults included (otherwise only those set explicitly)" };
        var command = commands.Command("describe", "Show the configs of a topic or a broker", [topic, broker, all], async (ctx, ct) =>
        {
            var entity = Entity(ctx, topic, broker);
            var values = await ctx.Admin.Configs.DescribeAsync(entity, ct).ConfigureAwait(false);
            var shown = ctx.Get(all) ? values : values.Where(v => !v.IsDefault && v.Source != "DEFAULT_CONFIG").ToList();
            ctx.Output.Table(["NAME", "VALUE", "SOURCE", "READ-ONLY"],
                shown.Select(v => (IReadOnlyList<object?>)[v.Name, v.IsSensitive ? "(sensitive)" : v.Value, v.Source, v.IsReadOnly]));
            return ExitCodes.Ok;
        });
        Shared.RequireOne(command, topic, broker);
        return command;
    }

    private static Command Alter(CommandFactory commands)
    {
        var (topic, broker) = EntityOptions();
        var set = Shared.ConfigOption("--set", "A config to set, name=value; repeat for more");
        var delete = new Option<string[]>("--delete") { Description = "A config override to remove; repeat for more", AllowMultipleArgumentsPerToken = false };
        var command = commands.Command("alter", "Set or remove configs of a topic or a broker", [topic, broker, set, delete], async (ctx, ct) =>
        {
            var entity = Entity(ctx, topic, broker);
            await ctx.Admin.Configs.AlterAsync(entity, Values.Pairs(ctx.Get(set)), ctx.Get(delete) ?? [], ct).ConfigureAwait(false);
            ctx.Output.Done($"altered configs of {entity}");
            return ExitCodes.Ok;
        });
        Shared.RequireOne(command, topic, broker);
        Shared.RequireAny(command, set, delete);
        return command;
    }

    private static (Option<string?> Topic, Option<int?> Broker) EntityOptions() =>
        (new Option<string?>("--topic", "-t") { Description = "The topic" }, new Option<int?>("--broker") { Description = "The broker id" });

    private static ConfigEntity Entity(CommandContext ctx, Option<string?> topic, Option<int?> broker) =>
        ctx.Get(topic) is { } name ? ConfigEntity.Topic(name) : ConfigEntity.Broker(ctx.Get(broker) ?? 0);
}
