using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Brook.Protocol.Generator;

/// <summary>Generates message codecs from every AdditionalFiles item ending in ".def".</summary>
[Generator(LanguageNames.CSharp)]
public sealed class ProtocolGenerator : IIncrementalGenerator
{
    private static readonly DiagnosticDescriptor BadDefinition = new(
        "BROOKGEN001", "Invalid protocol definition", "{0}", "Brook.Protocol.Generator", DiagnosticSeverity.Error, isEnabledByDefault: true);

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var files = context.AdditionalTextsProvider
            .Where(static t => t.Path.EndsWith(".def", StringComparison.OrdinalIgnoreCase))
            .Select(static (t, ct) => (Name: Path.GetFileName(t.Path), Text: t.GetText(ct)?.ToString() ?? ""))
            .Collect();
        context.RegisterSourceOutput(files, static (spc, items) => Generate(spc, items));
    }

    private static void Generate(SourceProductionContext spc, ImmutableArray<(string Name, string Text)> items)
    {
        var parsed = new System.Collections.Generic.List<MessageFileDef>();
        foreach (var (name, text) in items.OrderBy(i => i.Name, StringComparer.Ordinal))
        {
            try
            {
                var def = DefinitionParser.Parse(name, text);
                parsed.Add(def);
                spc.AddSource(Path.GetFileNameWithoutExtension(name) + ".g.cs", SourceText.From(new Emitter(def).Emit(), Encoding.UTF8));
            }
            catch (DefinitionException ex)
            {
                spc.ReportDiagnostic(Diagnostic.Create(BadDefinition, Location.None, ex.Message));
            }
        }
        spc.AddSource("ApiCatalog.g.cs", SourceText.From(Emitter.EmitCatalog(parsed), Encoding.UTF8));
    }
}
