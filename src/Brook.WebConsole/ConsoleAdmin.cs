using Brook.Admin;

namespace Brook.WebConsole;

/// <summary>
/// The console's one <see cref="KafkaAdmin"/>, created at the first request because the cluster's address may be known
/// only once the host has started (an embedded broker on an ephemeral port). Thread-safe.
/// </summary>
internal sealed class ConsoleAdmin(Func<ConnectionSettings?> connection) : IDisposable
{
    private readonly Lock _lock = new();
    private KafkaAdmin? _admin;

    public KafkaAdmin Admin
    {
        get
        {
            lock (_lock)
            {
                if (_admin is not null) return _admin;
                var settings = connection() ?? throw new AdminException(AdminErrorKind.Unreachable, "the cluster's address is not known yet: the broker is still starting");
                return _admin = new KafkaAdmin(settings);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock) _admin?.Dispose();
    }
}
