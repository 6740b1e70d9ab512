-- 0037: less work per start, a stronger guarantee.
--
-- A new attempt checked a foreign key to its school and one to its session,
-- each a row lock taken by every start of the exam: the school row and the
-- session row are shared by all of the session's students, so concurrent
-- start batches held them together (a MultiXact per new holder). One
-- composite key to the session says more, that the attempt's school is its
-- session's own (the school is reached through the session's key to it),
-- for one lookup on one shared row instead of two.
ALTER TABLE sessions
    ADD CONSTRAINT sessions_school_key UNIQUE (id, school_id);
ALTER TABLE attempts
    DROP CONSTRAINT attempts_school_id_fkey,
    DROP CONSTRAINT attempts_session_id_fkey,
    ADD CONSTRAINT attempts_session_school_fkey FOREIGN KEY (session_id, school_id)
        REFERENCES sessions (id, school_id);
