-- The database ceiling for answer saves: a table shaped like `responses`
-- (same columns, primary key and row size; no foreign keys or RLS), filled
-- with 10,000 attempts x 22 items so that every upsert is an update, as in
-- an exam. Used by pgbench_upsert_1.sql and pgbench_upsert_100.sql.
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_responses;
CREATE TABLE bench_responses (
    attempt_id  bigint NOT NULL,
    item_ref    text NOT NULL,
    school_id   bigint NOT NULL,
    student_id  bigint NOT NULL,
    response    jsonb NOT NULL,
    seq         bigint NOT NULL CHECK (seq >= 0),
    saved_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (attempt_id, item_ref)
);
INSERT INTO bench_responses (attempt_id, item_ref, school_id, student_id, response, seq)
SELECT a, 'c' || i, 1, a, '"A"', 0 FROM generate_series(1, 10000) a, generate_series(1, 22) i;
VACUUM ANALYZE bench_responses;
