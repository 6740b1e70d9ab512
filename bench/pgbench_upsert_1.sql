-- One answer per transaction (one commit, one WAL flush per save).
\set a random(1, 10000)
\set i random(1, 22)
INSERT INTO bench_responses AS x (attempt_id, item_ref, school_id, student_id, response, seq)
VALUES (:a, 'c' || :i, 1, :a, '"B"', :client_id + 1)
ON CONFLICT (attempt_id, item_ref) DO UPDATE
SET response = EXCLUDED.response, seq = x.seq + 1, saved_at = now();
