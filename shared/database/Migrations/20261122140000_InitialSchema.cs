using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Telemetry.Database.Migrations;

[DbContext(typeof(SchemaDbContext))]
[Migration("20261122140000_InitialSchema")]
public sealed class InitialSchema : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql(Catalogue);
        migrationBuilder.Sql(RawEvents);
        migrationBuilder.Sql(Aggregates);
        migrationBuilder.Sql(Audit);
        migrationBuilder.Sql(Partitioning);
        migrationBuilder.Sql(RolesAndGrants);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            DROP FUNCTION IF EXISTS partition_days(text), drop_oldest_expired_partition(text, date, interval),
                ensure_daily_partitions(text, date, date), assert_partition_maintainer(text), partition_maintainer(text), partition_day(name);
            DROP TABLE IF EXISTS audit_logs, cycle_aggregates, track_aggregates, question_aggregates,
                cycle_daily_aggregates, track_daily_aggregates, question_daily_aggregates, rollup_state,
                processed_events, answer_events, outbox_messages, attempts, learners, cycles, questions, tracks;
            """);

    // The attempts API's own tables: catalogue, cycles, learners, attempts and the transactional outbox.
    private const string Catalogue = """
        CREATE TABLE tracks (
            track_id                 uuid PRIMARY KEY,
            title                    text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
            pass_threshold_pct       int  NOT NULL CHECK (pass_threshold_pct BETWEEN 0 AND 100),
            review_band_pct          int  NOT NULL CHECK (review_band_pct BETWEEN 0 AND 100),
            min_seconds_per_question int  NOT NULL CHECK (min_seconds_per_question BETWEEN 0 AND 3600),
            updated_at               timestamptz NOT NULL
        );
        CREATE TABLE questions (
            question_id    uuid PRIMARY KEY,
            track_id       uuid NOT NULL REFERENCES tracks ON DELETE CASCADE,
            position       int  NOT NULL,
            correct_answer text NOT NULL CHECK (length(correct_answer) <= 500)
        );
        CREATE INDEX questions_track_id ON questions (track_id, position);
        CREATE TABLE cycles (
            cycle_number int PRIMARY KEY CHECK (cycle_number > 0),
            starts_at    timestamptz NOT NULL,
            ends_at      timestamptz NOT NULL,
            updated_at   timestamptz NOT NULL,
            CHECK (ends_at > starts_at),
            CONSTRAINT cycles_do_not_overlap EXCLUDE USING gist (tstzrange(starts_at, ends_at) WITH &&)
        );
        CREATE TABLE learners (
            wallet_address    text PRIMARY KEY,
            approved_attempts int NOT NULL DEFAULT 0,
            level             int NOT NULL DEFAULT 1,
            updated_at        timestamptz NOT NULL
        );
        CREATE TABLE attempts (
            attempt_id         uuid PRIMARY KEY,
            wallet_address     text NOT NULL,
            track_id           uuid NOT NULL,
            request_hash       bytea NOT NULL,
            duration_sec       int NOT NULL,
            answered_count     int NOT NULL,
            correct_count      int NOT NULL,
            score_basis_points int NOT NULL CHECK (score_basis_points BETWEEN 0 AND 10000),
            auto_decision      text NOT NULL CHECK (auto_decision IN ('approved', 'rejected', 'pending')),
            level_at_time      int NOT NULL,
            cycle_number       int NULL,
            created_at         timestamptz NOT NULL
        );
        CREATE INDEX attempts_wallet ON attempts (wallet_address, created_at);
        CREATE TABLE outbox_messages (
            id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            message_id       uuid NOT NULL,
            payload          jsonb NOT NULL,
            created_at       timestamptz NOT NULL,
            sent_at          timestamptz NULL,
            publish_attempts int NOT NULL DEFAULT 0,
            trace_parent     text NULL CHECK (length(trace_parent) <= 128)
        );
        CREATE INDEX outbox_messages_unsent ON outbox_messages (id) WHERE sent_at IS NULL;
        CREATE INDEX outbox_messages_sent ON outbox_messages (sent_at) WHERE sent_at IS NOT NULL;
        """;

    // Raw events and the aggregator's processed-events ledger: daily range partitions on created_at, which is fixed at
    // submit, so a duplicate always meets its original in the same partition and the primary key catches it.
    private const string RawEvents = """
        CREATE TABLE answer_events (
            id                   uuid NOT NULL,
            attempt_id           uuid NOT NULL,
            wallet_address       text NOT NULL,
            track_id             uuid NOT NULL,
            question_id          uuid NOT NULL,
            selected_answer      text NOT NULL,
            is_correct           boolean NOT NULL,
            score_basis_points   int NOT NULL CHECK (score_basis_points BETWEEN 0 AND 10000),
            attempt_duration_sec int NOT NULL CHECK (attempt_duration_sec >= 0),
            level_at_time        int NOT NULL,
            auto_decision        text NOT NULL CHECK (auto_decision IN ('approved', 'rejected', 'pending')),
            cycle_number         int NULL,
            answer_index         int NOT NULL,
            answer_count         int NOT NULL,
            created_at           timestamptz NOT NULL,
            ingested_at          timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (id, created_at)
        ) PARTITION BY RANGE (created_at);
        CREATE INDEX answer_events_track ON answer_events (track_id, created_at);
        CREATE INDEX answer_events_attempt ON answer_events (attempt_id);

        CREATE TABLE processed_events (
            event_id     uuid NOT NULL,
            created_at   timestamptz NOT NULL,
            processed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (event_id, created_at)
        ) PARTITION BY RANGE (created_at);
        """;

    // Kept forever: totals, and the same deltas per UTC day of the events' createdAt (trends, and day-by-day
    // reconciliation against the raw events). Counts and sums are stored; accuracy and averages are derived by the
    // database. For tracks and cycles an attempt counts once; for questions every answer is one attempt at it.
    private static readonly string Aggregates =
        AggregateTable("question_aggregates", "question_id uuid NOT NULL, track_id uuid NOT NULL", "question_id", perQuestion: true)
        + AggregateTable("question_daily_aggregates", "question_id uuid NOT NULL, day date NOT NULL, track_id uuid NOT NULL", "question_id, day", perQuestion: true)
        + AggregateTable("track_aggregates", "track_id uuid NOT NULL", "track_id", perQuestion: false)
        + AggregateTable("track_daily_aggregates", "track_id uuid NOT NULL, day date NOT NULL", "track_id, day", perQuestion: false)
        + AggregateTable("cycle_aggregates", "cycle_number int NOT NULL", "cycle_number", perQuestion: false)
        + AggregateTable("cycle_daily_aggregates", "cycle_number int NOT NULL, day date NOT NULL", "cycle_number, day", perQuestion: false)
        + """
        -- One row per aggregator instance, updated in every flush's transaction: "as of" for the stats API.
        CREATE TABLE rollup_state (
            instance       text PRIMARY KEY,
            last_flush_at  timestamptz NOT NULL,
            events_applied bigint NOT NULL
        );
        CREATE INDEX question_aggregates_track ON question_aggregates (track_id, question_id);
        CREATE INDEX question_daily_aggregates_track ON question_daily_aggregates (track_id, day);
        """;

    private static string AggregateTable(string name, string keyColumns, string primaryKey, bool perQuestion)
    {
        var answers = perQuestion ? "attempts_total" : "answers_total";
        return $"""
            CREATE TABLE {name} (
                {keyColumns},
                attempts_total     bigint NOT NULL,
                {(perQuestion ? "" : "answers_total      bigint NOT NULL,")}
                correct_total      bigint NOT NULL,
                duration_sum_sec   bigint NOT NULL,
                accuracy_pct       real GENERATED ALWAYS AS (CASE WHEN {answers} = 0 THEN 0 ELSE round(100.0 * correct_total / {answers}, 2) END) STORED,
                avg_duration_sec   real GENERATED ALWAYS AS (CASE WHEN attempts_total = 0 THEN 0 ELSE round(duration_sum_sec::numeric / attempts_total, 2) END) STORED,
                last_calculated_at timestamptz NOT NULL,
                PRIMARY KEY ({primaryKey})
            );

            """;
    }

    private const string Audit = """
        CREATE TABLE audit_logs (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            action      text NOT NULL,
            service     text NOT NULL,
            instance    text NOT NULL,
            occurred_at timestamptz NOT NULL DEFAULT now(),
            details     jsonb NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_logs_action ON audit_logs (action, occurred_at);
        CREATE INDEX audit_logs_occurred ON audit_logs (occurred_at);
        """;

    // Services do not own the partitioned tables, so they create and drop daily partitions through definer
    // functions, each table only by the service that writes it. The advisory lock keeps replicas from racing.
    // Retention drops one partition per call (one short transaction under a lock timeout; the caller retries), so
    // writers are never blocked for long.
    private const string Partitioning = """
        CREATE FUNCTION partition_maintainer(parent text) RETURNS text
        LANGUAGE sql IMMUTABLE AS $$
            SELECT CASE parent WHEN 'answer_events' THEN 'telemetry_ingestor' WHEN 'processed_events' THEN 'telemetry_aggregator' END
        $$;

        -- The day of a partition named <table>_pYYYYMMDD; NULL for any other name, so it is safe on every catalog row.
        CREATE FUNCTION partition_day(relname name) RETURNS date
        LANGUAGE sql IMMUTABLE AS $$
            SELECT CASE WHEN relname ~ '_p[0-9]{8}$' THEN to_date(right(relname, 8), 'YYYYMMDD') END
        $$;

        CREATE FUNCTION assert_partition_maintainer(parent text) RETURNS void
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
        BEGIN
            IF partition_maintainer(parent) IS NULL THEN
                RAISE EXCEPTION '% is not a daily-partitioned table', parent USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)
               AND NOT pg_has_role(session_user, partition_maintainer(parent), 'MEMBER') THEN
                RAISE EXCEPTION 'role % may not maintain partitions of %', session_user, parent USING ERRCODE = 'insufficient_privilege';
            END IF;
        END $$;

        CREATE FUNCTION ensure_daily_partitions(parent text, from_day date, to_day date) RETURNS int
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public SET lock_timeout = '10s' AS $$
        DECLARE
            day date := from_day;
            partition text;
            created int := 0;
        BEGIN
            PERFORM assert_partition_maintainer(parent);
            IF to_day < from_day OR to_day - from_day > 400 THEN
                RAISE EXCEPTION 'ensure_daily_partitions: bad range % .. %', from_day, to_day USING ERRCODE = 'invalid_parameter_value';
            END IF;
            PERFORM pg_advisory_xact_lock(hashtext('partitions:' || parent));
            WHILE day <= to_day LOOP
                partition := format('%s_p%s', parent, to_char(day, 'YYYYMMDD'));
                IF to_regclass(partition) IS NULL THEN
                    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                        partition, parent, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
                    created := created + 1;
                END IF;
                day := day + 1;
            END LOOP;
            RETURN created;
        END $$;

        -- Drops the oldest partition whose whole day lies before cutoff_day and returns what it held (no row: nothing
        -- has expired). Waits at most lock_wait for the table lock, then fails with lock_not_available.
        CREATE FUNCTION drop_oldest_expired_partition(parent text, cutoff_day date, lock_wait interval)
        RETURNS TABLE (partition text, day date, row_count bigint)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
        BEGIN
            PERFORM assert_partition_maintainer(parent);
            PERFORM set_config('lock_timeout', (extract(epoch FROM lock_wait) * 1000)::bigint::text, true);
            PERFORM pg_advisory_xact_lock(hashtext('partitions:' || parent));
            SELECT c.relname, partition_day(c.relname) INTO partition, day
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = parent::regclass AND partition_day(c.relname) < cutoff_day
            ORDER BY 2 LIMIT 1;
            IF partition IS NULL THEN
                RETURN;
            END IF;
            EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', parent);
            EXECUTE format('SELECT count(*) FROM %I', partition) INTO row_count;
            EXECUTE format('DROP TABLE %I', partition);
            RETURN NEXT;
        END $$;

        CREATE FUNCTION partition_days(parent text, OUT first_day date, OUT last_day date)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
            SELECT min(partition_day(c.relname)), max(partition_day(c.relname))
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = parent::regclass
        $$;

        REVOKE ALL ON FUNCTION assert_partition_maintainer(text), ensure_daily_partitions(text, date, date),
            drop_oldest_expired_partition(text, date, interval), partition_days(text) FROM PUBLIC;
        """;

    // One NOLOGIN role per service (the setup step enables login with a password). Roles are cluster-wide, so
    // creation tolerates a role that another database on the same server already made.
    private const string RolesAndGrants = """
        DO $$
        DECLARE role text;
        BEGIN
            FOREACH role IN ARRAY ARRAY['telemetry_attempts', 'telemetry_ingestor', 'telemetry_aggregator', 'telemetry_stats'] LOOP
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role) THEN
                    BEGIN
                        EXECUTE format('CREATE ROLE %I NOLOGIN', role);
                    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                    END;
                END IF;
            END LOOP;
        END $$;

        GRANT SELECT, INSERT, UPDATE, DELETE ON tracks, questions, cycles, learners, attempts, outbox_messages TO telemetry_attempts;

        GRANT SELECT, INSERT ON answer_events TO telemetry_ingestor;
        GRANT INSERT ON audit_logs TO telemetry_ingestor;
        GRANT SELECT, DELETE ON audit_logs TO telemetry_ingestor; -- its retention job keeps the audit log bounded
        GRANT EXECUTE ON FUNCTION ensure_daily_partitions(text, date, date), drop_oldest_expired_partition(text, date, interval),
            partition_days(text) TO telemetry_ingestor;

        GRANT SELECT, INSERT, UPDATE ON question_aggregates, track_aggregates, cycle_aggregates,
            question_daily_aggregates, track_daily_aggregates, cycle_daily_aggregates, rollup_state TO telemetry_aggregator;
        GRANT SELECT, INSERT ON processed_events TO telemetry_aggregator;
        GRANT SELECT ON answer_events TO telemetry_aggregator; -- reconciliation recomputes daily buckets from the raw events
        GRANT INSERT ON audit_logs TO telemetry_aggregator;
        GRANT EXECUTE ON FUNCTION ensure_daily_partitions(text, date, date), drop_oldest_expired_partition(text, date, interval),
            partition_days(text) TO telemetry_aggregator;

        -- The stats API reads aggregates and the cycle calendar (to know which cycle is current), nothing else.
        GRANT SELECT ON question_aggregates, track_aggregates, cycle_aggregates,
            question_daily_aggregates, track_daily_aggregates, cycle_daily_aggregates, rollup_state, cycles TO telemetry_stats;
        """;
}
