-- 0025: exam-room controls and the proctor's actions on attempts.
--
-- sessions.access_code: an optional 6-digit code the proctor reads out; a
--   student starts an attempt only by typing it (never sent to students).
-- sessions.allowed_cidrs: optional client address ranges (a lab's network);
--   a new attempt starts only from an address inside one of them. Saves of
--   an attempt already started are not checked (gateway/README.md).
-- session_code_tries: wrong codes per student and session; after 10 each
--   further try waits 5 minutes after the last wrong one (gateway/attempts.c).
-- attempts.submitted_by 'teacher': a proctor's force submit.
-- attempts.reopened_at: when a proctor last reopened the attempt; its
--   deadline was then set from that moment, and extra time moves it by the
--   difference instead of recomputing it from the start.
-- attempt_scores DELETE: a reopened attempt loses its scores, so the next
--   submit scores it again.
-- A bounded teacher (0021) changes the status of an attempt (reopen, force
--   submit) only for a student of a class they teach the test's subject.

ALTER TABLE sessions
    ADD COLUMN access_code text CHECK (access_code ~ '^[0-9]{6}$'),
    ADD COLUMN allowed_cidrs cidr[] CHECK (cardinality(allowed_cidrs) BETWEEN 1 AND 32);

ALTER TABLE attempts ADD COLUMN reopened_at timestamptz,
    DROP CONSTRAINT attempts_submitted_by_check,
    ADD CONSTRAINT attempts_submitted_by_check
        CHECK (submitted_by IN ('student', 'auto', 'teacher'));

CREATE TABLE session_code_tries (
    session_id    bigint NOT NULL REFERENCES sessions(id),
    student_id    bigint NOT NULL REFERENCES users(id),
    school_id     bigint NOT NULL REFERENCES schools(id),
    failures      integer NOT NULL DEFAULT 0,
    last_failure  timestamptz,
    PRIMARY KEY (session_id, student_id)
);
ALTER TABLE session_code_tries ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON session_code_tries
    USING ((school_id = kt_school() OR kt_admin_sees(school_id))
           AND (NOT kt_is_student() OR student_id = kt_user()))
    WITH CHECK (school_id = kt_school() AND (NOT kt_is_student() OR student_id = kt_user()));
GRANT SELECT, INSERT, UPDATE ON session_code_tries TO kiemtra_app;

GRANT DELETE ON attempt_scores TO kiemtra_app;

CREATE FUNCTION kt_attempt_status_assigned() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    PERFORM kt_require_attempt(OLD.id);
    RETURN NEW;
END
$$;
CREATE TRIGGER attempts_status_assigned BEFORE UPDATE ON attempts
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND kt_bounded())
    EXECUTE FUNCTION kt_attempt_status_assigned();
