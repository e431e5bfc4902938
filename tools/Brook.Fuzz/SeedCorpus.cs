using System.Collections;
using System.Reflection;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Protocol.Records;

namespace Brook.Fuzz;

/// <summary>A request frame (header and body, no size prefix) the mutator starts from, and where it came from.</summary>
public sealed record Seed(string Name, byte[] Frame);

/// <summary>
/// The starting inputs: every request frame captured from real clients (kcat, Confluent.Kafka, kafkajs,
/// kafka-python), plus, for every API and version the broker serves, a request whose fields are all filled in (one
/// element per array, names of the fuzzer's topic and group), so that APIs no capture covers are reached too.
/// </summary>
public static class SeedCorpus
{
    /// <summary>The topic and group names synthesized requests use; the target creates the topic.</summary>
    public const string Name = "fuzz";

    public static string CapturedDirectory => Path.Combine(AppContext.BaseDirectory, "seeds", "captured");

    public static List<Seed> Load(IEnumerable<(short Key, short MinVersion, short MaxVersion)> apis, string? capturedDirectory = null)
    {
        var seeds = new List<Seed>();
        var directory = capturedDirectory ?? CapturedDirectory;
        if (Directory.Exists(directory))
        {
            foreach (var file in Directory.EnumerateFiles(directory, "*.req.bin").Order(StringComparer.Ordinal))
                seeds.Add(new Seed("captured/" + Path.GetFileName(file), File.ReadAllBytes(file)));
        }
        foreach (var (key, min, max) in apis)
        {
            var descriptor = ApiCatalog.All.Single(a => a.Key == key);
            for (var version = min; version <= max; version++)
            {
                if (Synthesize(descriptor, version) is { } frame) seeds.Add(new Seed($"synthesized/{descriptor.Name}-v{version}", frame));
            }
        }
        return seeds;
    }

    /// <summary>Encodes a filled-in request of <paramref name="descriptor"/> at <paramref name="version"/>, or null when it cannot be encoded.</summary>
    public static byte[]? Synthesize(ApiDescriptor descriptor, short version)
    {
        var request = descriptor.NewRequest();
        Fill(request, depth: 0);
        using var writer = new ProtocolWriter();
        try
        {
            new RequestHeader { ApiKey = descriptor.Key, ApiVersion = version, CorrelationId = 1, ClientId = "brook-fuzz" }
                .Write(writer, descriptor.RequestHeaderVersion(version));
            request.Write(writer, version);
        }
        catch (Exception e) when (e is ProtocolException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
        return writer.WrittenSpan.ToArray();
    }

    private static void Fill(object target, int depth)
    {
        foreach (var property in target.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!property.CanWrite || property.Name == "UnknownTaggedFields") continue;
            if (Value(property.PropertyType, property.Name, depth) is { } value) property.SetValue(target, value);
        }
    }

    private static object? Value(Type type, string name, int depth)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(string)) return Name;
        if (underlying == typeof(bool)) return false;
        if (underlying == typeof(sbyte)) return (sbyte)0;
        if (underlying == typeof(short)) return (short)(name.Contains("Acks", StringComparison.Ordinal) ? -1 : 0);
        // Timeouts and waits of one millisecond keep the seeds quick; counts and indexes of 0 or 1 name real things.
        if (underlying == typeof(int)) return name.EndsWith("Ms", StringComparison.Ordinal) ? 1 : name.Contains("Partitions", StringComparison.Ordinal) || name.Contains("Count", StringComparison.Ordinal) ? 1 : 0;
        if (underlying == typeof(long)) return 0L;
        if (underlying == typeof(double)) return 1.0;
        if (underlying == typeof(KafkaUuid)) return KafkaUuid.NewRandom();
        if (underlying == typeof(byte[])) return new byte[] { 0, 1, 2, 3 };
        if (underlying == typeof(ReadOnlyMemory<byte>)) return (ReadOnlyMemory<byte>)RecordBatch();
        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(List<>))
        {
            var list = (IList)Activator.CreateInstance(underlying)!;
            if (depth < 4 && Value(underlying.GetGenericArguments()[0], name, depth + 1) is { } element) list.Add(element);
            return list;
        }
        if (underlying.IsClass && typeof(IProtocolStruct).IsAssignableFrom(underlying) && underlying.GetConstructor(Type.EmptyTypes) is not null)
        {
            var value = Activator.CreateInstance(underlying)!;
            if (depth < 4) Fill(value, depth + 1);
            return value;
        }
        return null;
    }

    private static byte[] RecordBatch()
    {
        using var builder = new RecordBatchBuilder();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        builder.Append(now, "key"u8.ToArray(), "value"u8.ToArray(), [new RecordHeader("h", "v"u8.ToArray())]);
        builder.Append(now, null, "second"u8.ToArray());
        return builder.ToArray();
    }
}
