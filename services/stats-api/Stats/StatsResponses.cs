namespace Telemetry.StatsApi.Stats;

public sealed record TrackStats(
    Guid TrackId, long AttemptsTotal, long AnswersTotal, long CorrectTotal, float AccuracyPct, float AvgDurationSec, DateTimeOffset LastCalculatedAt);

public sealed record QuestionStats(
    Guid QuestionId, Guid TrackId, long AttemptsTotal, long CorrectTotal, float AccuracyPct, float AvgDurationSec, DateTimeOffset LastCalculatedAt);

/// <summary>A current cycle with no applied events yet has zero totals and no lastCalculatedAt.</summary>
public sealed record CycleStats(
    int CycleNumber, DateTimeOffset StartsAt, DateTimeOffset EndsAt, long AttemptsTotal, long AnswersTotal, long CorrectTotal,
    float AccuracyPct, DateTimeOffset? LastCalculatedAt);

/// <summary>One UTC day of a track (by the events' createdAt); a day without data has zero totals and no lastCalculatedAt.</summary>
public sealed record TrackDayStats(
    Guid TrackId, DateOnly Day, long AttemptsTotal, long AnswersTotal, long CorrectTotal, float AccuracyPct, float AvgDurationSec,
    DateTimeOffset? LastCalculatedAt);
