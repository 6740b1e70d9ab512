-- 0013: less work per saved answer, the same guarantees.
--
-- A new row in responses checked three foreign keys, each a row lock taken
-- by every save of the exam: on the attempt, on the student and on the
-- school, one row shared by all its students (many concurrent holders of a
-- row lock need a MultiXact). One composite key to the attempt says more,
-- that the row's school and student are the attempt's own, for one lookup.
-- The scores stored at submit had the same shared lock on the school row.
ALTER TABLE attempts
    ADD CONSTRAINT attempts_owner_key UNIQUE (id, school_id, student_id),
    ADD CONSTRAINT attempts_school_key UNIQUE (id, school_id);
ALTER TABLE responses
    DROP CONSTRAINT responses_attempt_id_fkey,
    DROP CONSTRAINT responses_school_id_fkey,
    DROP CONSTRAINT responses_student_id_fkey,
    ADD CONSTRAINT responses_attempt_owner_fkey FOREIGN KEY (attempt_id, school_id, student_id)
        REFERENCES attempts (id, school_id, student_id);
ALTER TABLE attempt_scores
    DROP CONSTRAINT attempt_scores_attempt_id_fkey,
    DROP CONSTRAINT attempt_scores_school_id_fkey,
    ADD CONSTRAINT attempt_scores_attempt_school_fkey FOREIGN KEY (attempt_id, school_id)
        REFERENCES attempts (id, school_id);

-- Linear navigation: the save statement (gateway/attempts.c, save_batch, the
-- only writer of responses) finds the item's position in the form for an
-- attempt of a linear test and leaves it NULL otherwise, so the row trigger
-- runs for linear tests only instead of for every saved answer. The trigger
-- still sees the rows the same statement wrote before it.
DROP TRIGGER responses_linear ON responses;
CREATE OR REPLACE FUNCTION kt_responses_linear() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM responses r
                WHERE r.attempt_id = NEW.attempt_id AND r.position > NEW.position)
    THEN
        RAISE EXCEPTION 'linear navigation: item % is before the furthest item answered',
            NEW.item_ref USING ERRCODE = 'KT409';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER responses_linear BEFORE INSERT ON responses
    FOR EACH ROW WHEN (NEW.position IS NOT NULL) EXECUTE FUNCTION kt_responses_linear();
