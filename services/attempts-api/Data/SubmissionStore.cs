using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Telemetry.AttemptsApi.Outbox;
using Telemetry.AttemptsApi.Submissions;
using Telemetry.Contracts;

namespace Telemetry.AttemptsApi.Data;

/// <summary>
/// The submit path's database work: one round trip that locks the learner and reads everything grading needs, one
/// that writes the attempt, its outbox rows and the learner, then the commit.
/// </summary>
public sealed class SubmissionStore(NpgsqlDataSource dataSource)
{
    // The learner row lock comes first: a wallet's submits run one after another, so a replay racing its original
    // sees it committed, and levels count every approved attempt exactly once.
    private const string LockLearner = """
        INSERT INTO learners (wallet_address, updated_at) VALUES ($1, $2) ON CONFLICT (wallet_address) DO NOTHING RETURNING 1
        """;
    private const string ReadLearner = "SELECT approved_attempts, level FROM learners WHERE wallet_address = $1 FOR UPDATE";
    private const string ReadAttempt = """
        SELECT attempt_id, wallet_address, track_id, request_hash, duration_sec, answered_count, correct_count,
               score_basis_points, auto_decision, level_at_time, cycle_number, created_at
        FROM attempts WHERE attempt_id = $1
        """;
    private const string ReadTrack = "SELECT pass_threshold_pct, review_band_pct, min_seconds_per_question FROM tracks WHERE track_id = $1";
    private const string ReadQuestions = "SELECT question_id, correct_answer FROM questions WHERE track_id = $1";
    private const string ReadCurrentCycle = "SELECT cycle_number FROM cycles WHERE starts_at <= $1 AND ends_at > $1";

    private const string InsertAttempt = """
        INSERT INTO attempts (attempt_id, wallet_address, track_id, request_hash, duration_sec, answered_count,
                              correct_count, score_basis_points, auto_decision, level_at_time, cycle_number, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (attempt_id) DO NOTHING
        """;
    private const string InsertOutbox = """
        INSERT INTO outbox_messages (message_id, payload, created_at, trace_parent)
        SELECT message_id, payload, $3, $4 FROM unnest($1::uuid[], $2::jsonb[]) AS m(message_id, payload)
        """;
    private const string UpdateLearner = "UPDATE learners SET approved_attempts = $2, level = $3, updated_at = $4 WHERE wallet_address = $1";

    public Task<SubmissionSession> BeginAsync(string wallet, Submission submission, DateTimeOffset now, CancellationToken cancellationToken) =>
        OpenTransaction.BeginAsync(dataSource, async (connection, transaction) =>
        {
            await using var batch = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    Sql.Command(LockLearner, wallet, now),
                    Sql.Command(ReadLearner, wallet),
                    Sql.Command(ReadAttempt, submission.AttemptId),
                    Sql.Command(ReadTrack, submission.TrackId),
                    Sql.Command(ReadQuestions, submission.TrackId),
                    Sql.Command(ReadCurrentCycle, now),
                },
            };
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);

            await reader.NextResultAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var learner = new LearnerState(reader.GetInt32(0), reader.GetInt32(1));

            await reader.NextResultAsync(cancellationToken);
            var existing = await reader.ReadAsync(cancellationToken) ? ReadAttemptRecord(reader) : null;

            await reader.NextResultAsync(cancellationToken);
            var rules = await reader.ReadAsync(cancellationToken)
                ? new ReviewRules(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2))
                : null;

            await reader.NextResultAsync(cancellationToken);
            var correctAnswers = new Dictionary<Guid, string>();
            while (await reader.ReadAsync(cancellationToken))
                correctAnswers[reader.GetGuid(0)] = reader.GetString(1);

            await reader.NextResultAsync(cancellationToken);
            int? cycle = await reader.ReadAsync(cancellationToken) ? reader.GetInt32(0) : null;

            var track = rules is null ? null : new GradingTrack(submission.TrackId, rules, correctAnswers);
            return new SubmissionSession(connection, transaction, existing, track, learner, cycle);
        }, cancellationToken);

    private static AttemptRecord ReadAttemptRecord(NpgsqlDataReader reader) => new(
        reader.GetGuid(0),
        reader.GetString(1),
        reader.GetGuid(2),
        reader.GetFieldValue<byte[]>(3),
        reader.GetInt32(4),
        reader.GetInt32(5),
        reader.GetInt32(6),
        reader.GetInt32(7),
        reader.GetString(8),
        reader.GetInt32(9),
        reader.IsDBNull(10) ? null : reader.GetInt32(10),
        reader.GetFieldValue<DateTimeOffset>(11));

    /// <summary>An open transaction holding the learner's row lock; disposing without committing rolls back.</summary>
    public sealed class SubmissionSession(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        AttemptRecord? existing,
        GradingTrack? track,
        LearnerState learner,
        int? currentCycle) : OpenTransaction(connection, transaction)
    {
        public AttemptRecord? Existing { get; } = existing;
        public GradingTrack? Track { get; } = track;
        public LearnerState Learner { get; } = learner;
        public int? CurrentCycle { get; } = currentCycle;

        /// <summary>
        /// Writes the attempt, one outbox row per event and the learner, and commits. False, with nothing written, when
        /// the attempt id was taken meanwhile (only another wallet can race here: the learner lock serializes a wallet).
        /// </summary>
        public async Task<bool> CommitAsync(AttemptRecord attempt, IReadOnlyList<AnswerSubmitted> events, LearnerState learnerAfter, CancellationToken cancellationToken)
        {
            var payloads = new NpgsqlParameter
            {
                Value = events.Select(e => JsonSerializer.Serialize(e, OutboxPayload.SerializerOptions)).ToArray(),
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb,
            };
            await using var batch = new NpgsqlBatch(Connection, Transaction)
            {
                BatchCommands =
                {
                    Sql.Command(InsertAttempt, attempt.AttemptId, attempt.WalletAddress, attempt.TrackId, attempt.RequestHash, attempt.DurationSec,
                        attempt.AnsweredCount, attempt.CorrectCount, attempt.ScoreBasisPoints, attempt.AutoDecision, attempt.LevelAtTime,
                        attempt.CycleNumber, attempt.CreatedAt),
                    // The submit request's trace context, so the relay's publish (and the consumers) join the same trace.
                    Sql.Command(InsertOutbox, events.Select(e => e.EventId).ToArray(), payloads, attempt.CreatedAt, Activity.Current?.Id),
                },
            };
            if (learnerAfter != Learner)
                batch.BatchCommands.Add(Sql.Command(UpdateLearner, attempt.WalletAddress, learnerAfter.ApprovedAttempts, learnerAfter.Level, attempt.CreatedAt));

            await batch.ExecuteNonQueryAsync(cancellationToken);
            if (batch.BatchCommands[0].RecordsAffected == 0)
            {
                await Transaction.RollbackAsync(cancellationToken);
                return false;
            }
            await Transaction.CommitAsync(cancellationToken);
            return true;
        }
    }
}
