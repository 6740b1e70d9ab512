-- 100 answers of 100 different attempts in one transaction (group commit):
-- one statement, one commit. Rows are sorted by key, as the gateway's
-- batches are, so concurrent batches wait rather than deadlock.
\set a random(1, 9901)
\set i random(1, 22)
INSERT INTO bench_responses AS x (attempt_id, item_ref, school_id, student_id, response, seq)
SELECT :a + g, 'c' || :i, 1, :a + g, '"B"', 1 FROM generate_series(0, 99) g
ON CONFLICT (attempt_id, item_ref) DO UPDATE
SET response = EXCLUDED.response, seq = x.seq + 1, saved_at = now();
