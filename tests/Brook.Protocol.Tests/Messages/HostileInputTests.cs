namespace Brook.Protocol.Tests.Messages;

/// <summary>
/// Whatever bytes a client sends, decoding either succeeds or throws <see cref="ProtocolException"/>: no other
/// exception type escapes, nothing hangs, and no allocation is sized by an untrusted length.
/// </summary>
public class HostileInputTests
{
    private const int RandomBuffersPerCase = 24;
    private const int MutationsPerCase = 24;
    private const int MaxTruncationsPerCase = 48;
    private static readonly TimeSpan CaseBudget = TimeSpan.FromSeconds(20);

    [Theory]
    [MemberData(nameof(MessageCases.EveryVersion), MemberType = typeof(MessageCases))]
    public async Task Random_truncated_and_mutated_input_fails_only_with_protocol_exception(string api, bool request, short version)
    {
        // Run on another thread so that a decoder stuck in a loop fails the test (TimeoutException) instead of hanging the run.
        await Task.Run(() => Exercise(api, request, version)).WaitAsync(CaseBudget);
    }

    private static void Exercise(string api, bool request, short version)
    {
        var random = new Random(MessageCases.Seed(api, request, version, 7));

        for (var i = 0; i < RandomBuffersPerCase; i++)
        {
            var buffer = new byte[random.Next(0, 96)];
            random.NextBytes(buffer);
            AssertDecodesOrRejects(api, request, version, buffer);
        }

        var valid = MessageCases.Encode(new MessageFiller(MessageCases.Seed(api, request, version, 3)).Fill(MessageCases.New(api, request)), version);

        // Every prefix when short, an even spread of prefixes when long.
        var step = Math.Max(1, valid.Length / MaxTruncationsPerCase);
        for (var length = 0; length < valid.Length; length += step)
            AssertDecodesOrRejects(api, request, version, valid.AsMemory(0, length));

        for (var i = 0; i < MutationsPerCase && valid.Length > 0; i++)
        {
            var mutated = (byte[])valid.Clone();
            var flips = random.Next(1, 4);
            for (var f = 0; f < flips; f++) mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            AssertDecodesOrRejects(api, request, version, mutated);
        }
    }

    private static void AssertDecodesOrRejects(string api, bool request, short version, ReadOnlyMemory<byte> bytes)
    {
        var message = MessageCases.New(api, request);
        var reader = new ProtocolReader(bytes);
        try
        {
            message.Read(ref reader, version);
        }
        catch (ProtocolException)
        {
        }
        catch (Exception ex)
        {
            Assert.Fail($"{api} {(request ? "request" : "response")} v{version} threw {ex.GetType().Name} on [{Convert.ToHexString(bytes.Span)}]: {ex}");
        }
    }

    public static TheoryData<string, short, byte[]> HugeLengthClaims => new()
    {
        // Classic int32 array count of int.MaxValue followed by two bytes.
        { "Metadata", 1, [0x7F, 0xFF, 0xFF, 0xFF, 0x00, 0x01] },
        // Compact array count near uint.MaxValue.
        { "Metadata", 9, [0xFE, 0xFF, 0xFF, 0xFF, 0x0F, 0x00] },
        // FindCoordinator v0: a classic key string of 32767 bytes claimed by a 4-byte buffer.
        { "FindCoordinator", 0, [0x7F, 0xFF, 0x61, 0x62] },
        // Produce v3: null transactional id, acks, timeout, one topic "t", one partition, records of int.MaxValue bytes.
        { "Produce", 3, [0xFF, 0xFF, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x74, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0x01] },
        // Fetch v12 tagged section claiming 2^31 tagged fields.
        { "Fetch", 12, [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x01, 0x01, 0x80, 0x80, 0x80, 0x80, 0x08] },
        // SaslAuthenticate v0: int32 bytes length of int.MaxValue.
        { "SaslAuthenticate", 0, [0x7F, 0xFF, 0xFF, 0xFF, 0x00] },
    };

    [Theory]
    [MemberData(nameof(HugeLengthClaims))]
    public void Huge_length_claims_fail_fast_without_large_allocation(string api, short version, byte[] bytes)
    {
        var message = MessageCases.New(api, request: true);
        // Warm up once so that JIT and type loading do not count against the budget.
        TryRead(MessageCases.New(api, request: true), bytes, version);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = TryRead(message, bytes, version);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.IsType<ProtocolException>(error);
        // The exception and its message cost a few kilobytes; a buffer sized by the claimed length would cost gigabytes.
        Assert.True(allocated < 64 * 1024, $"decoding allocated {allocated} bytes");
    }

    private static Exception? TryRead(IApiMessage message, byte[] bytes, short version)
    {
        var reader = new ProtocolReader(bytes);
        try
        {
            message.Read(ref reader, version);
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    [Fact]
    public void Random_header_bytes_fail_only_with_protocol_exception()
    {
        var random = new Random(13);
        for (var i = 0; i < 3000; i++)
        {
            var buffer = new byte[random.Next(0, 32)];
            random.NextBytes(buffer);
            var headerVersion = (short)(i % 3);
            try
            {
                var reader = new ProtocolReader(buffer);
                new RequestHeader().Read(ref reader, headerVersion);
            }
            catch (ProtocolException)
            {
            }
            try
            {
                var reader = new ProtocolReader(buffer);
                new ResponseHeader().Read(ref reader, (short)(headerVersion % 2));
            }
            catch (ProtocolException)
            {
            }
            try
            {
                RequestHeader.Peek(buffer);
            }
            catch (ProtocolException)
            {
            }
        }
    }

    [Fact]
    public void Consumer_protocol_bytes_fail_only_with_protocol_exception()
    {
        var random = new Random(11);
        for (var i = 0; i < 2000; i++)
        {
            var buffer = new byte[random.Next(0, 64)];
            random.NextBytes(buffer);
            if (buffer.Length >= 2 && random.Next(2) == 0) buffer[0] = 0; // keep the version plausible half the time
            foreach (var decode in new Action[] { () => ConsumerProtocol.DecodeSubscription(buffer), () => ConsumerProtocol.DecodeAssignment(buffer) })
            {
                try
                {
                    decode();
                }
                catch (ProtocolException)
                {
                }
            }
        }
    }
}
