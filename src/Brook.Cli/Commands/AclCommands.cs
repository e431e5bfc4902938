using System.CommandLine;
using Brook.Admin;

namespace Brook.Cli.Commands;

internal static class AclCommands
{
    public static Command Create(CommandFactory commands) => CommandFactory.Group("acls", "Access control lists: list, create, delete",
        List(commands), CreateAcl(commands), Delete(commands));

    private sealed record AclOptions(
        Option<string?> ResourceType, Option<string?> ResourceName, Option<string?> PatternType, Option<string?> Principal,
        Option<string?> Host, Option<string[]> Operations, Option<string?> Permission)
    {
        public static AclOptions Make(bool forCreate) => new(
            new Option<string?>("--resource-type") { Description = "topic, group or cluster" + (forCreate ? "" : " (default: any)"), Required = forCreate },
            new Option<string?>("--resource-name") { Description = "Resource name (cluster: kafka-cluster)" + (forCreate ? "" : "; default: any"), Required = forCreate },
            new Option<string?>("--pattern-type") { Description = forCreate ? "literal (default) or prefixed" : "literal, prefixed, match or any (default)" },
            new Option<string?>("--principal") { Description = "Principal like User:alice" + (forCreate ? "" : " (default: any)"), Required = forCreate },
            new Option<string?>("--host") { Description = forCreate ? "Host the rule applies to (default: *)" : "Host (default: any)" },
            new Option<string[]>("--operation") { Description = "read, write, create, delete, alter, describe, describe-configs, alter-configs, idempotent-write, all; repeat for more", AllowMultipleArgumentsPerToken = false, Required = forCreate },
            new Option<string?>("--permission") { Description = forCreate ? "allow (default) or deny" : "allow, deny or any (default)" });

        public Symbol[] Symbols => [ResourceType, ResourceName, PatternType, Principal, Host, Operations, Permission];

        public AclQuery Query(CommandContext ctx) => Parse(() => new AclQuery
        {
            ResourceType = ctx.Get(ResourceType) is { } t ? AclNames.ParseResourceType(t) : Confluent.Kafka.Admin.ResourceType.Any,
            ResourceName = ctx.Get(ResourceName),
            PatternType = ctx.Get(PatternType) is { } p ? AclNames.ParsePatternType(p) : Confluent.Kafka.Admin.ResourcePatternType.Any,
            Principal = ctx.Get(Principal),
            Host = ctx.Get(Host),
            Operation = ctx.Get(Operations) is [var op] ? AclNames.ParseOperation(op)
                : ctx.Get(Operations) is { Length: > 1 } ? throw AdminException.Invalid("filter on one --operation at a time")
                : Confluent.Kafka.Admin.AclOperation.Any,
            Permission = ctx.Get(Permission) is { } perm ? AclNames.ParsePermission(perm) : Confluent.Kafka.Admin.AclPermissionType.Any,
        });

        public List<AclRule> Rules(CommandContext ctx) => Parse(() => (ctx.Get(Operations) ?? []).Select(op => new AclRule(
            AclNames.ParseResourceType(ctx.Get(ResourceType)!),
            ctx.Get(ResourceName)!,
            AclNames.ParsePatternType(ctx.Get(PatternType) ?? "literal"),
            ctx.Get(Principal)!,
            ctx.Get(Host) ?? "*",
            AclNames.ParseOperation(op),
            AclNames.ParsePermission(ctx.Get(Permission) ?? "allow"))).ToList());

        private static T Parse<T>(Func<T> parse)
        {
            try
            {
                return parse();
            }
            catch (AdminException ex) when (ex.Kind == AdminErrorKind.Invalid)
            {
                throw new UsageException(ex.Message);
            }
        }
    }

    private static Command List(CommandFactory commands)
    {
        var options = AclOptions.Make(forCreate: false);
        return commands.Command("list", "List ACLs, all or those matching the filters", options.Symbols, async (ctx, ct) =>
        {
            var rules = await ctx.Admin.Acls.ListAsync(options.Query(ctx), ct).ConfigureAwait(false);
            Render(ctx, rules);
            return ExitCodes.Ok;
        });
    }

    private static Command CreateAcl(CommandFactory commands)
    {
        var options = AclOptions.Make(forCreate: true);
        return commands.Command("create", "Create ACLs: one for each --operation", options.Symbols, async (ctx, ct) =>
        {
            var rules = options.Rules(ctx);
            await ctx.Admin.Acls.CreateAsync(rules, ct).ConfigureAwait(false);
            ctx.Output.Done($"created {rules.Count} ACL(s)");
            return ExitCodes.Ok;
        });
    }

    private static Command Delete(CommandFactory commands)
    {
        var options = AclOptions.Make(forCreate: false);
        var command = commands.Command("delete", "Delete every ACL matching the filters", options.Symbols, async (ctx, ct) =>
        {
            var deleted = await ctx.Admin.Acls.DeleteAsync(options.Query(ctx), ct).ConfigureAwait(false);
            Render(ctx, deleted);
            ctx.Output.Note($"deleted {deleted.Count} ACL(s)");
            return ExitCodes.Ok;
        });
        // An empty filter would delete every ACL of the cluster: make that a deliberate choice.
        Shared.RequireAny(command, options.ResourceType, options.ResourceName, options.Principal);
        return command;
    }

    private static void Render(CommandContext ctx, IReadOnlyList<AclRule> rules) =>
        ctx.Output.Table(["RESOURCE-TYPE", "RESOURCE-NAME", "PATTERN", "PRINCIPAL", "HOST", "OPERATION", "PERMISSION"],
            rules.Select(r => (IReadOnlyList<object?>)[AclNames.Format(r.ResourceType), r.ResourceName, AclNames.Format(r.PatternType), r.Principal, r.Host,
                AclNames.Format(r.Operation), AclNames.Format(r.Permission)]));
}
