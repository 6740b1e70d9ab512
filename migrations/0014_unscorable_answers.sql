-- 0014: an answer the engine cannot score waits for a teacher, never 0.
--
-- attempt_scores.state says where an answer stands, derived from the row so
-- that no writer can disagree with it:
--   scored          the engine scored it
--   needs_marking   an essay (or any answer) waiting for a teacher
--   scoring_failed  the engine could not score it (detail.error says why:
--                   its processing stopped, its scoring is unreadable);
--                   a teacher marks it like an essay
--   marked          a teacher marked it
-- A row with detail.error carries no engine score: only a teacher's mark
-- (marked_by) puts a number on it. Until now such answers were stored as
-- 0; they become "scoring_failed" here and their attempts need marking
-- again (a learner record already published keeps its value: it is
-- corrected by publishing the session again once marked).

UPDATE attempt_scores SET score = NULL, detail = detail || '{"needs_marking": true}'
 WHERE detail->>'error' IS NOT NULL AND marked_by IS NULL AND score IS NOT NULL;

UPDATE attempts a SET score = t.total, needs_marking = true
  FROM (SELECT attempt_id, coalesce(sum(score), 0) AS total FROM attempt_scores
         GROUP BY attempt_id HAVING bool_or(score IS NULL)) t
 WHERE a.id = t.attempt_id AND a.scored_at IS NOT NULL AND NOT a.needs_marking;

ALTER TABLE attempt_scores
    ADD COLUMN state text GENERATED ALWAYS AS (
        CASE WHEN marked_by IS NOT NULL THEN 'marked'
             WHEN score IS NOT NULL THEN 'scored'
             WHEN detail->>'error' IS NOT NULL THEN 'scoring_failed'
             ELSE 'needs_marking' END) STORED,
    ADD CONSTRAINT attempt_scores_failed_unscored
        CHECK (detail->>'error' IS NULL OR score IS NULL OR marked_by IS NOT NULL);
