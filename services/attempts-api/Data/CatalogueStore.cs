using Npgsql;
using Telemetry.AttemptsApi.Catalogue;

namespace Telemetry.AttemptsApi.Data;

/// <summary>Tracks, their questions and the cycle calendar, written through the admin API.</summary>
public sealed class CatalogueStore(NpgsqlDataSource dataSource)
{
    private const string QuestionsOfOtherTracks = "SELECT question_id FROM questions WHERE question_id = ANY($1) AND track_id <> $2";
    // xmax = 0 only on a freshly inserted row: tells a create (201) from a replace (200).
    private const string UpsertTrack = """
        INSERT INTO tracks (track_id, title, pass_threshold_pct, review_band_pct, min_seconds_per_question, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (track_id) DO UPDATE SET
            title = EXCLUDED.title,
            pass_threshold_pct = EXCLUDED.pass_threshold_pct,
            review_band_pct = EXCLUDED.review_band_pct,
            min_seconds_per_question = EXCLUDED.min_seconds_per_question,
            updated_at = EXCLUDED.updated_at
        RETURNING xmax = 0
        """;
    private const string DeleteQuestions = "DELETE FROM questions WHERE track_id = $1";
    private const string InsertQuestions = """
        INSERT INTO questions (question_id, track_id, position, correct_answer)
        SELECT question_id, $1, position - 1, correct_answer
        FROM unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS q(question_id, correct_answer, position)
        """;
    private const string ListTracks = """
        SELECT t.track_id, t.title, t.pass_threshold_pct, t.review_band_pct, t.min_seconds_per_question,
               (SELECT count(*)::int FROM questions q WHERE q.track_id = t.track_id), t.updated_at
        FROM tracks t ORDER BY t.title, t.track_id
        """;
    private const string ReadTrack = """
        SELECT title, pass_threshold_pct, review_band_pct, min_seconds_per_question, updated_at FROM tracks WHERE track_id = $1
        """;
    private const string ReadQuestions = "SELECT question_id, correct_answer FROM questions WHERE track_id = $1 ORDER BY position";
    private const string UpsertCycle = """
        INSERT INTO cycles (cycle_number, starts_at, ends_at, updated_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (cycle_number) DO UPDATE SET starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at, updated_at = EXCLUDED.updated_at
        RETURNING xmax = 0
        """;
    private const string OverlappingCycle = """
        SELECT cycle_number, starts_at, ends_at, updated_at FROM cycles
        WHERE cycle_number <> $1 AND tstzrange(starts_at, ends_at) && tstzrange($2, $3)
        ORDER BY starts_at LIMIT 1
        """;
    private const string ListCycles = "SELECT cycle_number, starts_at, ends_at, updated_at FROM cycles ORDER BY starts_at";

    /// <summary>Question ids of <paramref name="track"/> that already belong to another track.</summary>
    public async Task<IReadOnlySet<Guid>> QuestionsOwnedElsewhereAsync(Track track, CancellationToken cancellationToken)
    {
        await using var command = dataSource.Command(QuestionsOfOtherTracks, track.Questions.Select(q => q.QuestionId).ToArray(), track.TrackId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var owned = new HashSet<Guid>();
        while (await reader.ReadAsync(cancellationToken))
            owned.Add(reader.GetGuid(0));
        return owned;
    }

    /// <summary>Creates or replaces the track and its whole question list; true when it was created.</summary>
    public async Task<bool> UpsertTrackAsync(Track track, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                Sql.Command(UpsertTrack, track.TrackId, track.Title, track.PassThresholdPct, track.ReviewBandPct, track.MinSecondsPerQuestion, now),
                Sql.Command(DeleteQuestions, track.TrackId),
                Sql.Command(InsertQuestions, track.TrackId, track.Questions.Select(q => q.QuestionId).ToArray(), track.Questions.Select(q => q.CorrectAnswer).ToArray()),
            },
        };
        var created = (bool)(await batch.ExecuteScalarAsync(cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return created;
    }

    public async Task<IReadOnlyList<TrackSummary>> ListTracksAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(ListTracks);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tracks = new List<TrackSummary>();
        while (await reader.ReadAsync(cancellationToken))
            tracks.Add(new TrackSummary(reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4),
                reader.GetInt32(5), reader.GetFieldValue<DateTimeOffset>(6)));
        return tracks;
    }

    public async Task<TrackResponse?> GetTrackAsync(Guid trackId, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Sql.Command(ReadTrack, trackId));
        batch.BatchCommands.Add(Sql.Command(ReadQuestions, trackId));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;
        var (title, pass, band, minSeconds, updatedAt) =
            (reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetFieldValue<DateTimeOffset>(4));
        await reader.NextResultAsync(cancellationToken);
        var questions = new List<Question>();
        while (await reader.ReadAsync(cancellationToken))
            questions.Add(new Question(reader.GetGuid(0), reader.GetString(1)));
        return new TrackResponse(trackId, title, pass, band, minSeconds, questions, updatedAt);
    }

    /// <summary>Creates or moves a cycle; true when it was created. Throws an exclusion violation on overlap.</summary>
    public async Task<bool> UpsertCycleAsync(Cycle cycle, CancellationToken cancellationToken)
    {
        await using var command = dataSource.Command(UpsertCycle, cycle.CycleNumber, cycle.StartsAt, cycle.EndsAt, cycle.UpdatedAt);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<Cycle?> FindOverlappingCycleAsync(Cycle cycle, CancellationToken cancellationToken)
    {
        await using var command = dataSource.Command(OverlappingCycle, cycle.CycleNumber, cycle.StartsAt, cycle.EndsAt);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadCycle(reader) : null;
    }

    public async Task<IReadOnlyList<Cycle>> ListCyclesAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(ListCycles);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var cycles = new List<Cycle>();
        while (await reader.ReadAsync(cancellationToken))
            cycles.Add(ReadCycle(reader));
        return cycles;
    }

    private static Cycle ReadCycle(NpgsqlDataReader reader) =>
        new(reader.GetInt32(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3));
}
