using Microsoft.Extensions.DependencyInjection;
using Telemetry.AttemptsApi.Outbox;
using Xunit;

namespace Telemetry.AttemptsApi.Tests;

public sealed class OutboxCleanupTests(AttemptsApiFixture api) : IClassFixture<AttemptsApiFixture>
{
    [Fact]
    public async Task Cleanup_deletes_rows_sent_before_the_retention_and_keeps_recent_and_unsent_rows()
    {
        // JSON null payloads: the relay cannot read them, so it leaves the unsent row alone during the test.
        await api.Database.ExecuteAsync("""
            INSERT INTO outbox_messages (message_id, payload, created_at, sent_at) VALUES
                ('00000000-0000-0000-0000-0000000000a1', 'null', now() - interval '3 days', now() - interval '3 days'),
                ('00000000-0000-0000-0000-0000000000a2', 'null', now() - interval '25 hours', now() - interval '25 hours'),
                ('00000000-0000-0000-0000-0000000000a3', 'null', now() - interval '2 hours', now() - interval '1 hour'),
                ('00000000-0000-0000-0000-0000000000a4', 'null', now() - interval '5 days', NULL);
            """);
        var cleanup = api.Factory.Services.GetRequiredService<OutboxCleanup>();

        // The hosted cleanup also runs once at startup and may win the race for these rows; the outcome is the same.
        await cleanup.CleanOnceAsync(CancellationToken.None);

        var left = await api.Database.ScalarAsync<string>("SELECT string_agg(right(message_id::text, 2), ',' ORDER BY message_id) FROM outbox_messages");
        Assert.Equal("a3,a4", left);
    }
}
