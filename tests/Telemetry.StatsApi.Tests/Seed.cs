namespace Telemetry.StatsApi.Tests;

/// <summary>
/// Aggregates as the aggregator would have left them, with numbers chosen so every derived value is known:
/// track A = 4 attempts, 10 answers, 7 right, 300 s (70 %, 75 s), over two days and three questions;
/// track B = 1 attempt, 3 answers, none right, 20 s. Cycle 1 is past, cycle 2 is current, cycle 3 has no data yet.
/// Two aggregator instances have flushed; the newer flush is <see cref="AsOf"/>.
/// </summary>
public static class Seed
{
    public static readonly Guid TrackA = Guid.Parse("11111111-1111-1111-1111-111111111111");
    public static readonly Guid TrackB = Guid.Parse("22222222-2222-2222-2222-222222222222");
    public static readonly Guid UnknownTrack = Guid.Parse("99999999-9999-9999-9999-999999999999");
    public static readonly Guid[] QuestionsA =
    [
        Guid.Parse("aaaaaaaa-0000-0000-0000-000000000001"),
        Guid.Parse("aaaaaaaa-0000-0000-0000-000000000002"),
        Guid.Parse("aaaaaaaa-0000-0000-0000-000000000003"),
    ];

    public const string AsOf = "2026-11-22T10:00:01.456Z";
    public static readonly DateTimeOffset CalculatedAt = DateTimeOffset.Parse("2026-11-22T10:00:01.456Z");

    public static readonly string Sql = $"""
        INSERT INTO track_aggregates (track_id, attempts_total, answers_total, correct_total, duration_sum_sec, last_calculated_at) VALUES
            ('{TrackA}', 4, 10, 7, 300, '{AsOf}'),
            ('{TrackB}', 1, 3, 0, 20, '2026-11-21T08:00:00Z');
        INSERT INTO track_daily_aggregates (track_id, day, attempts_total, answers_total, correct_total, duration_sum_sec, last_calculated_at) VALUES
            ('{TrackA}', '2026-11-20', 1, 3, 2, 60, '2026-11-20T12:00:00Z'),
            ('{TrackA}', '2026-11-22', 3, 7, 5, 240, '{AsOf}'),
            ('{TrackB}', '2026-11-21', 1, 3, 0, 20, '2026-11-21T08:00:00Z');
        INSERT INTO question_aggregates (question_id, track_id, attempts_total, correct_total, duration_sum_sec, last_calculated_at) VALUES
            ('{QuestionsA[0]}', '{TrackA}', 4, 3, 300, '{AsOf}'),
            ('{QuestionsA[1]}', '{TrackA}', 4, 2, 300, '{AsOf}'),
            ('{QuestionsA[2]}', '{TrackA}', 2, 2, 120, '2026-11-20T12:00:00Z'),
            ('bbbbbbbb-0000-0000-0000-000000000001', '{TrackB}', 1, 0, 20, '2026-11-21T08:00:00Z');
        INSERT INTO cycles (cycle_number, starts_at, ends_at, updated_at) VALUES
            (1, '2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z', now()),
            (2, now() - interval '1 day', now() + interval '29 days', now()),
            (3, now() + interval '29 days', now() + interval '59 days', now());
        INSERT INTO cycle_aggregates (cycle_number, attempts_total, answers_total, correct_total, duration_sum_sec, last_calculated_at) VALUES
            (1, 2, 5, 4, 100, '2026-10-30T00:00:00Z'),
            (2, 2, 5, 3, 150, '{AsOf}');
        INSERT INTO rollup_state (instance, last_flush_at, events_applied) VALUES
            ('aggregator@one', '2026-11-22T10:00:00.123Z', 100),
            ('aggregator@two', '{AsOf}', 50);
        """;
}
