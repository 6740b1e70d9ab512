-- 0007: timed delivery. A test is built from a blueprint (ma trận) and, when
-- published, holds its selected item versions (test_items) and N forms (mã đề)
-- with their seeds and the student payload of each form. A session opens a
-- published test to classes for a window. An attempt is one student's sitting
-- of a session (at most one per student and session); its deadline is set by
-- the server. responses keep the newest answer per item with the client's
-- sequence number: an older or repeated seq never overwrites a newer one.
--
-- Isolation: every table has school_id under RLS; attempts and responses are
-- further restricted to the student's own rows when the caller is a student.

CREATE FUNCTION kt_user() RETURNS bigint
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('kiemtra.user_id', true), '')::bigint $$;

CREATE FUNCTION kt_is_student() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(current_setting('kiemtra.role', true), '') = 'student' $$;

CREATE TABLE tests (
    id               bigserial PRIMARY KEY,
    school_id        bigint NOT NULL REFERENCES schools(id),
    province_id      bigint NOT NULL REFERENCES provinces(id),
    title            text NOT NULL,
    subject          text NOT NULL,
    grade            smallint NOT NULL CHECK (grade BETWEEN 1 AND 12),
    kind             text NOT NULL CHECK (kind IN ('tx', 'gk', 'ck')), -- thường xuyên, giữa kỳ, cuối kỳ
    duration_seconds integer NOT NULL CHECK (duration_seconds BETWEEN 60 AND 14400),
    forms            smallint NOT NULL CHECK (forms BETWEEN 1 AND 99),
    blueprint        jsonb NOT NULL,          -- [{node, level, format, count, points}]
    status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    seed             bigint,                   -- assembly seed, set at publish
    total_points     integer,                  -- hundredths, set at publish
    created_by       bigint REFERENCES users(id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    published_by     bigint REFERENCES users(id),
    published_at     timestamptz
);

-- The item versions a published test uses, the same for every form.
CREATE TABLE test_items (
    test_id     bigint NOT NULL REFERENCES tests(id),
    item_ref    text NOT NULL,                 -- stable name in the test: "c<item id>"
    school_id   bigint NOT NULL REFERENCES schools(id),
    item_id     bigint NOT NULL,
    version     integer NOT NULL,
    cell        smallint NOT NULL,             -- blueprint row
    part        smallint NOT NULL,
    points      integer NOT NULL CHECK (points > 0), -- hundredths
    PRIMARY KEY (test_id, item_ref),
    FOREIGN KEY (item_id, version) REFERENCES item_versions (item_id, version)
);

CREATE TABLE test_forms (
    id          bigserial PRIMARY KEY,
    test_id     bigint NOT NULL REFERENCES tests(id),
    school_id   bigint NOT NULL REFERENCES schools(id),
    form_index  smallint NOT NULL,
    code        text NOT NULL CHECK (code ~ '^[0-9]{3}$'), -- mã đề
    seed        bigint NOT NULL,
    payload     jsonb NOT NULL,                -- what a student sees: no keys, no other forms
    UNIQUE (test_id, form_index),
    UNIQUE (test_id, code)
);

CREATE TABLE sessions (
    id                bigserial PRIMARY KEY,
    school_id         bigint NOT NULL REFERENCES schools(id),
    test_id           bigint NOT NULL REFERENCES tests(id),
    opens_at          timestamptz NOT NULL,
    closes_at         timestamptz NOT NULL,
    results_released  boolean NOT NULL DEFAULT false,
    released_at       timestamptz,
    created_by        bigint REFERENCES users(id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (closes_at > opens_at)
);

CREATE TABLE session_classes (
    session_id  bigint NOT NULL REFERENCES sessions(id),
    class_id    bigint NOT NULL REFERENCES classes(id),
    school_id   bigint NOT NULL REFERENCES schools(id),
    PRIMARY KEY (session_id, class_id)
);

CREATE TABLE attempts (
    id              bigserial PRIMARY KEY,
    school_id       bigint NOT NULL REFERENCES schools(id),
    session_id      bigint NOT NULL REFERENCES sessions(id),
    student_id      bigint NOT NULL REFERENCES users(id),
    form_id         bigint NOT NULL REFERENCES test_forms(id),
    started_at      timestamptz NOT NULL DEFAULT now(),
    extra_seconds   integer NOT NULL DEFAULT 0 CHECK (extra_seconds BETWEEN 0 AND 14400),
    deadline        timestamptz NOT NULL,       -- least(start + duration + extra, closes_at)
    status          text NOT NULL DEFAULT 'in_progress'
                    CHECK (status IN ('in_progress', 'submitted')),
    submitted_at    timestamptz,
    submitted_by    text CHECK (submitted_by IN ('student', 'auto')),
    scored_at       timestamptz,
    score           integer,                    -- hundredths
    max_score       integer,
    needs_marking   boolean NOT NULL DEFAULT false, -- essays waiting for a teacher
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (session_id, student_id)
);
CREATE INDEX attempts_open_deadline_idx ON attempts (deadline) WHERE status = 'in_progress';
CREATE INDEX attempts_unscored_idx ON attempts (submitted_at)
    WHERE status = 'submitted' AND scored_at IS NULL;

CREATE TABLE responses (
    attempt_id  bigint NOT NULL REFERENCES attempts(id),
    item_ref    text NOT NULL,
    school_id   bigint NOT NULL REFERENCES schools(id),
    student_id  bigint NOT NULL REFERENCES users(id),
    response    jsonb NOT NULL,                 -- QTI string forms; null = cleared
    seq         bigint NOT NULL CHECK (seq >= 0),
    saved_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (attempt_id, item_ref)
);

-- Per item result of a scored attempt (automatic or by a teacher).
CREATE TABLE attempt_scores (
    attempt_id  bigint NOT NULL REFERENCES attempts(id),
    item_ref    text NOT NULL,
    school_id   bigint NOT NULL REFERENCES schools(id),
    score       integer,                        -- hundredths; NULL while it needs marking
    max_score   integer NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',    -- outcomes, correct statements...
    marked_by   bigint REFERENCES users(id),    -- NULL when scored by the engine
    marked_at   timestamptz,
    PRIMARY KEY (attempt_id, item_ref)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tests', 'test_items', 'test_forms', 'sessions', 'session_classes',
                             'attempt_scores']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant ON %I USING (school_id = kt_school()'
                       ' OR kt_admin_sees(school_id)) WITH CHECK (school_id = kt_school())', t);
    END LOOP;
END
$$;

-- A student reaches only their own attempts and answers, whatever the SQL says.
ALTER TABLE attempts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON attempts
    USING ((school_id = kt_school() OR kt_admin_sees(school_id))
           AND (NOT kt_is_student() OR student_id = kt_user()))
    WITH CHECK (school_id = kt_school() AND (NOT kt_is_student() OR student_id = kt_user()));
ALTER TABLE responses ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON responses
    USING ((school_id = kt_school() OR kt_admin_sees(school_id))
           AND (NOT kt_is_student() OR student_id = kt_user()))
    WITH CHECK (school_id = kt_school() AND (NOT kt_is_student() OR student_id = kt_user()));
-- Scores of an open attempt are not the student's to read.
CREATE POLICY student_scores ON attempt_scores AS RESTRICTIVE
    USING (NOT kt_is_student());

GRANT SELECT, INSERT, UPDATE ON tests, test_items, test_forms, sessions, session_classes,
    attempts, responses, attempt_scores TO kiemtra_app;
GRANT USAGE ON SEQUENCE tests_id_seq, test_forms_id_seq, sessions_id_seq, attempts_id_seq
    TO kiemtra_app;

-- Attempts past their deadline, submitted on the owner's rights for the
-- background job (which serves every school): at most p_limit per call,
-- skipping rows another gateway holds. Returns what it submitted.
CREATE FUNCTION kt_expire_attempts(p_limit integer)
    RETURNS TABLE (attempt_id bigint, school_id bigint)
    LANGUAGE sql SECURITY DEFINER SET search_path = public
    AS $$
    WITH due AS (
        SELECT a.id FROM attempts a
         WHERE a.status = 'in_progress' AND a.deadline <= now()
         ORDER BY a.deadline
         LIMIT p_limit
         FOR UPDATE SKIP LOCKED)
    UPDATE attempts a SET status = 'submitted', submitted_at = a.deadline, submitted_by = 'auto'
      FROM due WHERE a.id = due.id
    RETURNING a.id, a.school_id
    $$;

-- Submitted attempts not scored yet (a gateway stopped between the two
-- steps); fresh ones are left to the gateway that is scoring them.
CREATE FUNCTION kt_unscored_attempts(p_limit integer)
    RETURNS TABLE (attempt_id bigint, school_id bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
    SELECT a.id, a.school_id FROM attempts a
     WHERE a.status = 'submitted' AND a.scored_at IS NULL
       AND a.submitted_at < now() - interval '5 seconds'
     ORDER BY a.submitted_at LIMIT p_limit
    $$;

GRANT EXECUTE ON FUNCTION kt_expire_attempts(integer), kt_unscored_attempts(integer)
    TO kiemtra_app;
