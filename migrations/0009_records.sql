-- 0009: learner records (sổ điểm) by Thông tư 22/2021 (grades 6-12) and
-- Thông tư 27/2020 (grades 1-5), and the outbox to the sector database.
--
-- subject_configs: how a subject is assessed, as data. A row with school_id
-- NULL is the default for every school; a school may add its own rows, which
-- win. mode: 'score' (TT22, điểm), 'comment' (TT22, Đạt/Chưa đạt),
-- 'primary_test' (TT27, level T/H/C plus an integer periodic test score),
-- 'primary_level' (TT27, level only). periods_per_year gives the number of
-- ĐĐGtx slots per semester (TT22 Điều 6: up to 35 -> 2, up to 70 -> 3, more
-- -> 4); tx_slots overrides it. The defaults follow DOMAIN-VN §1.2 and §2;
-- the THPT period counts there are unverified, so schools can change them.
--
-- record_marks: one mark per student, subject, school year, semester and
-- slot (tx1..tx4, gk, ck; primary: gk/ck as integer test scores and
-- level_gk/level_ck as T/H/C). value is in tenths (7,5 -> 75) for scores,
-- or the code D / CD (Đạt / Chưa đạt) or T / H / C.
-- record_results: what the rules computed from the marks (ĐTBmhk per
-- semester, ĐTBmcn for semester 0 = the year, comment results, the academic
-- level per student) with the rule set and version that produced it.
-- record_terms: a semester the school_admin locked; marks of a locked
-- semester cannot change.
-- csdl_outbox: one row per exchange record (student x school year x
-- semester) with its current version and payload; the sender pushes the
-- newest version and remembers the highest version the receiver accepted.

CREATE TABLE subject_configs (
    id               bigserial PRIMARY KEY,
    school_id        bigint REFERENCES schools(id),
    subject          text NOT NULL,
    grade            smallint NOT NULL CHECK (grade BETWEEN 1 AND 12),
    name             text NOT NULL,
    mode             text NOT NULL CHECK (mode IN ('score', 'comment', 'primary_test',
                                                   'primary_level')),
    periods_per_year integer CHECK (periods_per_year > 0),
    tx_slots         smallint CHECK (tx_slots BETWEEN 1 AND 9),
    source           text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX subject_configs_key ON subject_configs (coalesce(school_id, 0), subject, grade);

INSERT INTO subject_configs (subject, grade, name, mode, periods_per_year, tx_slots, source)
SELECT s.subject, g, s.name, s.mode, s.periods, s.tx, s.source
FROM (VALUES
    -- THCS (grades 6-9), periods from the GDPT 2018 timetable.
    ('TOAN', 6, 9, 'Toán', 'score', 140, NULL::smallint, 'DOMAIN-VN §1.2'),
    ('NV', 6, 9, 'Ngữ văn', 'score', 140, NULL, 'DOMAIN-VN §1.2'),
    ('KHTN', 6, 9, 'Khoa học tự nhiên', 'score', 140, NULL, 'DOMAIN-VN §1.2'),
    ('NN1', 6, 9, 'Ngoại ngữ 1', 'score', 105, NULL, 'DOMAIN-VN §1.2'),
    ('LSDL', 6, 9, 'Lịch sử và Địa lí', 'score', 105, NULL, 'DOMAIN-VN §1.2'),
    ('CN', 6, 7, 'Công nghệ', 'score', 35, NULL, 'DOMAIN-VN §1.2'),
    ('CN', 8, 9, 'Công nghệ', 'score', 52, NULL, 'DOMAIN-VN §1.2'),
    ('TIN', 6, 9, 'Tin học', 'score', 35, NULL, 'DOMAIN-VN §1.2'),
    ('GDCD', 6, 9, 'Giáo dục công dân', 'score', 35, NULL, 'DOMAIN-VN §1.2'),
    ('GDTC', 6, 12, 'Giáo dục thể chất', 'comment', NULL, 2, 'DOMAIN-VN §1.1; tx count [U]'),
    ('NT', 6, 9, 'Nghệ thuật', 'comment', NULL, 2, 'DOMAIN-VN §1.1; tx count [U]'),
    ('HDTN', 6, 12, 'Hoạt động trải nghiệm, hướng nghiệp', 'comment', NULL, 2,
     'DOMAIN-VN §1.1; tx count [U]'),
    ('GDDP', 6, 12, 'Nội dung giáo dục của địa phương', 'comment', NULL, 2,
     'DOMAIN-VN §1.1; tx count [U]'),
    -- THPT (grades 10-12): period counts unverified [U].
    ('TOAN', 10, 12, 'Toán', 'score', 105, NULL, 'DOMAIN-VN §1.2 [U periods]'),
    ('NV', 10, 12, 'Ngữ văn', 'score', 105, NULL, 'DOMAIN-VN §1.2 [U periods]'),
    ('NN1', 10, 12, 'Ngoại ngữ 1', 'score', 105, NULL, 'DOMAIN-VN §1.2 [U periods]'),
    ('LS', 10, 12, 'Lịch sử', 'score', 52, NULL, 'DOMAIN-VN §1.2 [U]'),
    ('LY', 10, 12, 'Vật lí', 'score', 70, NULL, 'DOMAIN-VN §1.2 [U periods]'),
    ('HOA', 10, 12, 'Hoá học', 'score', 70, NULL, 'DOMAIN-VN §1.2 [U periods]'),
    ('SINH', 10, 12, 'Sinh học', 'score', 70, NULL, 'DOMAIN-VN §1.2 [U periods]'),
    ('DIA', 10, 12, 'Địa lí', 'score', 70, NULL, 'DOMAIN-VN §1.2 [U periods]'),
    ('GDKTPL', 10, 12, 'Giáo dục kinh tế và pháp luật', 'score', 70, NULL,
     'DOMAIN-VN §1.2 [U periods]'),
    ('TIN', 10, 12, 'Tin học', 'score', 70, NULL, 'DOMAIN-VN §1.2 [U periods]'),
    ('CN', 10, 12, 'Công nghệ', 'score', 70, NULL, 'DOMAIN-VN §1.2 [U periods]'),
    ('AN', 10, 12, 'Âm nhạc', 'comment', NULL, 2, 'DOMAIN-VN §1.1; tx count [U]'),
    ('MT', 10, 12, 'Mĩ thuật', 'comment', NULL, 2, 'DOMAIN-VN §1.1; tx count [U]'),
    -- Primary (TT27): periodic tests by grade, DOMAIN-VN §2.
    ('TV', 1, 5, 'Tiếng Việt', 'primary_test', NULL, NULL, 'DOMAIN-VN §2'),
    ('TOAN', 1, 5, 'Toán', 'primary_test', NULL, NULL, 'DOMAIN-VN §2'),
    ('NN1', 3, 5, 'Ngoại ngữ 1', 'primary_test', NULL, NULL, 'DOMAIN-VN §2'),
    ('TINCN', 3, 5, 'Tin học và Công nghệ', 'primary_test', NULL, NULL, 'DOMAIN-VN §2'),
    ('LSDL', 4, 5, 'Lịch sử và Địa lí', 'primary_test', NULL, NULL, 'DOMAIN-VN §2'),
    ('KH', 4, 5, 'Khoa học', 'primary_test', NULL, NULL, 'DOMAIN-VN §2 [U Khoa học]'),
    ('DD', 1, 5, 'Đạo đức', 'primary_level', NULL, NULL, 'DOMAIN-VN §2'),
    ('TNXH', 1, 3, 'Tự nhiên và Xã hội', 'primary_level', NULL, NULL, 'DOMAIN-VN §2'),
    ('GDTC', 1, 5, 'Giáo dục thể chất', 'primary_level', NULL, NULL, 'DOMAIN-VN §2'),
    ('NT', 1, 5, 'Nghệ thuật', 'primary_level', NULL, NULL, 'DOMAIN-VN §2'),
    ('HDTN', 1, 5, 'Hoạt động trải nghiệm', 'primary_level', NULL, NULL, 'DOMAIN-VN §2')
) AS s(subject, g_from, g_to, name, mode, periods, tx, source),
LATERAL generate_series(s.g_from, s.g_to) g;

CREATE TABLE record_terms (
    school_id    bigint NOT NULL REFERENCES schools(id),
    school_year  text NOT NULL CHECK (school_year ~ '^[0-9]{4}-[0-9]{4}$'),
    semester     smallint NOT NULL CHECK (semester IN (1, 2)),
    locked_by    bigint REFERENCES users(id),
    locked_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, school_year, semester)
);

CREATE TABLE record_marks (
    school_id    bigint NOT NULL REFERENCES schools(id),
    student_id   bigint NOT NULL REFERENCES users(id),
    class_id     bigint NOT NULL REFERENCES classes(id),
    subject      text NOT NULL,
    school_year  text NOT NULL CHECK (school_year ~ '^[0-9]{4}-[0-9]{4}$'),
    semester     smallint NOT NULL CHECK (semester IN (1, 2)),
    slot         text NOT NULL CHECK (slot ~ '^(tx[1-9]|gk|ck|level_gk|level_ck)$'),
    value        text NOT NULL,                 -- tenths ("75"), D/CD, T/H/C
    source       text NOT NULL CHECK (source IN ('session', 'manual')),
    session_id   bigint REFERENCES sessions(id),
    updated_by   bigint REFERENCES users(id),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (student_id, subject, school_year, semester, slot)
);
CREATE INDEX record_marks_class_idx ON record_marks (class_id, school_year, semester, subject);

CREATE TABLE record_results (
    school_id    bigint NOT NULL REFERENCES schools(id),
    student_id   bigint NOT NULL REFERENCES users(id),
    subject      text NOT NULL,                 -- '' for the academic level
    school_year  text NOT NULL,
    semester     smallint NOT NULL CHECK (semester IN (0, 1, 2)), -- 0: the whole year
    status       text NOT NULL CHECK (status IN ('ok', 'incomplete')),
    value        text,                          -- tenths, D/CD, T/H/C, or the level code
    detail       jsonb NOT NULL DEFAULT '{}',   -- what is missing, the lift applied...
    ruleset      text NOT NULL,                 -- e.g. TT22-2021
    ruleset_version text NOT NULL,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (student_id, subject, school_year, semester)
);

CREATE TABLE csdl_outbox (
    record_id        text PRIMARY KEY,          -- <mã trường>-<mã học sinh>-<năm học>-<học kỳ>
    school_id        bigint NOT NULL REFERENCES schools(id),
    student_id       bigint NOT NULL REFERENCES users(id),
    version          integer NOT NULL CHECK (version > 0),
    event            text NOT NULL CHECK (event IN ('NEW', 'UPDATE', 'CANCEL')),
    payload          jsonb NOT NULL,            -- the exchange record at this version
    accepted_version integer NOT NULL DEFAULT 0, -- highest version the receiver took
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX csdl_outbox_due_idx ON csdl_outbox (next_attempt_at)
    WHERE accepted_version < version;

-- The 12-digit số định danh cá nhân, optional, encrypted at rest (secretbox,
-- key outside the database); nonce || ciphertext.
ALTER TABLE users ADD COLUMN national_id_enc bytea;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['record_terms', 'record_marks', 'record_results', 'csdl_outbox']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant ON %I USING (school_id = kt_school()'
                       ' OR kt_admin_sees(school_id)) WITH CHECK (school_id = kt_school())', t);
    END LOOP;
END
$$;
-- A student reads only their own marks and results.
CREATE POLICY own_records ON record_marks AS RESTRICTIVE
    USING (NOT kt_is_student() OR student_id = kt_user());
CREATE POLICY own_results ON record_results AS RESTRICTIVE
    USING (NOT kt_is_student() OR student_id = kt_user());
CREATE POLICY not_students ON csdl_outbox AS RESTRICTIVE USING (NOT kt_is_student());

ALTER TABLE subject_configs ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON subject_configs
    USING (school_id IS NULL OR school_id = kt_school() OR kt_admin_sees(school_id))
    WITH CHECK (school_id = kt_school());

GRANT SELECT, INSERT, UPDATE ON record_terms, record_marks, record_results, csdl_outbox
    TO kiemtra_app;
GRANT SELECT, INSERT, UPDATE ON subject_configs TO kiemtra_app;
GRANT DELETE ON record_marks TO kiemtra_app; -- a teacher clearing a mark
GRANT USAGE ON SEQUENCE subject_configs_id_seq TO kiemtra_app;

-- Outbox rows due for sending, for the background sender (which serves
-- every school): at most p_limit, skipping rows another gateway holds.
CREATE FUNCTION kt_outbox_due(p_limit integer)
    RETURNS TABLE (record_id text, school_id bigint, version integer, event text,
                   payload jsonb, updated_at text)
    LANGUAGE sql SECURITY DEFINER SET search_path = public
    AS $$
    SELECT o.record_id, o.school_id, o.version, o.event, o.payload,
           to_char(o.updated_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD"T"HH24:MI:SS')
      FROM csdl_outbox o
     WHERE o.accepted_version < o.version AND o.next_attempt_at <= now()
     ORDER BY o.next_attempt_at LIMIT p_limit
       FOR UPDATE SKIP LOCKED
    $$;

-- The receiver's answer for one sent version: accepted (the highest
-- accepted version only grows) or failed (exponential backoff, capped).
CREATE FUNCTION kt_outbox_result(p_record text, p_version integer, p_ok boolean,
                                 p_error text)
    RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public
    AS $$
    UPDATE csdl_outbox SET
        accepted_version = CASE WHEN p_ok THEN greatest(accepted_version, p_version)
                                ELSE accepted_version END,
        attempts = CASE WHEN p_ok THEN 0 ELSE attempts + 1 END,
        last_error = CASE WHEN p_ok THEN NULL ELSE p_error END,
        next_attempt_at = CASE WHEN p_ok THEN now()
            ELSE now() + make_interval(secs => least(300, 2 ^ least(attempts, 8))) END,
        updated_at = now()
     WHERE record_id = p_record
    $$;

GRANT EXECUTE ON FUNCTION kt_outbox_due(integer), kt_outbox_result(text, integer, boolean, text)
    TO kiemtra_app;
