-- 0033: year results and the exchange with the sector database (CSDL ngành).
--
-- * record_conduct: kết quả rèn luyện per student and semester (TT22 Điều 8,
--   entered by the homeroom teacher or the school_admin) with the days of
--   absence of that semester; the year level is computed (engine/yearresult.c).
-- * record_qualities: the TT27 ratings (Tốt / Đạt / Cần cố gắng) of each
--   quality (phẩm chất, PC.*) and competency (năng lực chung NLC.*, đặc thù
--   NLDT.*) per primary pupil and semester.
-- * record_year_results: what the rules computed for the year per student
--   (year conduct, danh hiệu, the promotion decision; for primary the year
--   result and the completion of the programme), with the rule set.
-- * record_submissions: a school_admin's submission of a class's records of
--   a semester to the sector database (besides the semester lock).
-- * csdl_code_map: the sector's codes (QĐ 4998 lists, DOMAIN-VN §5.4) for
--   what the engine calls by its own codes, as data: a row with school_id
--   NULL is the default, a school's row wins; no row sends the engine's own
--   code. Most lists were not retrieved ([U]): schools change them here.
-- * kt_outbox_refresh(): the exchange records of a class and school year.
--   A semester's records (and the year's, with semester II) go to the outbox
--   only once the semester is released: locked, or submitted for the class.
--   Before that, edits send nothing. After it, a record whose content
--   changed gets the next version (UPDATE) and a record whose content is gone
--   (marks cleared, the student left the class) gets the next version as a
--   CANCEL, so the receiver's state follows the school's.
--
-- Conduct and ratings are entered by the class's homeroom teacher
-- (classes.homeroom_teacher_id, kt_is_homeroom of 0032) or the school_admin.

-- ---------------------------------------------------------------------------
-- Inputs entered by staff.

CREATE TABLE record_conduct (
    school_id    bigint NOT NULL REFERENCES schools(id),
    student_id   bigint NOT NULL REFERENCES users(id),
    class_id     bigint NOT NULL REFERENCES classes(id),
    school_year  text NOT NULL CHECK (school_year ~ '^[0-9]{4}-[0-9]{4}$'),
    semester     smallint NOT NULL CHECK (semester IN (1, 2)),
    level        text NOT NULL CHECK (level IN ('TOT', 'KHA', 'DAT', 'CD')),
    absent_days  integer NOT NULL DEFAULT 0 CHECK (absent_days BETWEEN 0 AND 200),
    updated_by   bigint REFERENCES users(id),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (student_id, school_year, semester)
);
CREATE INDEX record_conduct_class_idx ON record_conduct (class_id, school_year);

CREATE TABLE record_qualities (
    school_id    bigint NOT NULL REFERENCES schools(id),
    student_id   bigint NOT NULL REFERENCES users(id),
    class_id     bigint NOT NULL REFERENCES classes(id),
    school_year  text NOT NULL CHECK (school_year ~ '^[0-9]{4}-[0-9]{4}$'),
    semester     smallint NOT NULL CHECK (semester IN (1, 2)),
    aspect       text NOT NULL CHECK (aspect ~ '^(PC|NLC|NLDT)\.[A-Z]+$'),
    level        text NOT NULL CHECK (level IN ('T', 'D', 'C')),
    updated_by   bigint REFERENCES users(id),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (student_id, school_year, semester, aspect)
);
CREATE INDEX record_qualities_class_idx ON record_qualities (class_id, school_year);

-- Computed.
CREATE TABLE record_year_results (
    school_id       bigint NOT NULL REFERENCES schools(id),
    student_id      bigint NOT NULL REFERENCES users(id),
    class_id        bigint NOT NULL REFERENCES classes(id),
    school_year     text NOT NULL,
    status          text NOT NULL CHECK (status IN ('ok', 'incomplete')),
    conduct         text CHECK (conduct IN ('TOT', 'KHA', 'DAT', 'CD')),
    award           text CHECK (award IN ('HSXS', 'HSG')),
    promotion       text CHECK (promotion IN ('LEN_LOP', 'REN_LUYEN_HE', 'KIEM_TRA_LAI',
                                              'O_LAI_LOP')),
    primary_result  text CHECK (primary_result IN ('HTXS', 'HTT', 'HT', 'CHT')),
    completed       boolean,
    absent_days     integer,
    detail          jsonb NOT NULL DEFAULT '{}',
    ruleset         text NOT NULL,
    ruleset_version text NOT NULL,
    computed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (student_id, school_year)
);

CREATE TABLE record_submissions (
    school_id    bigint NOT NULL REFERENCES schools(id),
    class_id     bigint NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    school_year  text NOT NULL CHECK (school_year ~ '^[0-9]{4}-[0-9]{4}$'),
    semester     smallint NOT NULL CHECK (semester IN (1, 2)),
    submitted_by bigint REFERENCES users(id),
    submitted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (class_id, school_year, semester)
);

ALTER TABLE csdl_outbox ADD COLUMN class_id bigint REFERENCES classes(id) ON DELETE SET NULL;
CREATE INDEX csdl_outbox_class_idx ON csdl_outbox (class_id);

CREATE TABLE csdl_code_map (
    id          bigserial PRIMARY KEY,
    school_id   bigint REFERENCES schools(id),
    kind        text NOT NULL CHECK (kind IN ('cap_hoc', 'khoi', 'mon', 'hoc_luc', 'ren_luyen',
                                              'danh_hieu', 'muc_th', 'ket_qua_th')),
    local_code  text NOT NULL,
    csdl_code   jsonb NOT NULL,      -- sent as is (a number or a string)
    confidence  text NOT NULL CHECK (confidence IN ('V', 'V2', 'U')),
    source      text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX csdl_code_map_key ON csdl_code_map (coalesce(school_id, 0), kind, local_code);

INSERT INTO csdl_code_map (kind, local_code, csdl_code, confidence, source) VALUES
    -- Nhóm cấp học (DOMAIN-VN §5.4).
    ('cap_hoc', 'TH', '"02"', 'V2', 'DOMAIN-VN §5.4'),
    ('cap_hoc', 'THCS', '"03"', 'V2', 'DOMAIN-VN §5.4'),
    ('cap_hoc', 'THPT', '"04"', 'V2', 'DOMAIN-VN §5.4'),
    -- Mã học lực (TT22 Điều 9) and mã hạnh kiểm / rèn luyện (Điều 8): 1-4.
    ('hoc_luc', 'TOT', '1', 'V2', 'DOMAIN-VN §5.4'),
    ('hoc_luc', 'KHA', '2', 'V2', 'DOMAIN-VN §5.4'),
    ('hoc_luc', 'DAT', '3', 'V2', 'DOMAIN-VN §5.4'),
    ('hoc_luc', 'CD', '4', 'V2', 'DOMAIN-VN §5.4'),
    ('ren_luyen', 'TOT', '1', 'V2', 'DOMAIN-VN §5.4'),
    ('ren_luyen', 'KHA', '2', 'V2', 'DOMAIN-VN §5.4'),
    ('ren_luyen', 'DAT', '3', 'V2', 'DOMAIN-VN §5.4'),
    ('ren_luyen', 'CD', '4', 'V2', 'DOMAIN-VN §5.4'),
    -- Mã danh hiệu: a QĐ 4998 list whose values were not retrieved.
    ('danh_hieu', 'HSXS', '"HSXS"', 'U', 'DOMAIN-VN §5.4, §9.5: QĐ 4998 values not retrieved'),
    ('danh_hieu', 'HSG', '"HSG"', 'U', 'DOMAIN-VN §5.4, §9.5: QĐ 4998 values not retrieved'),
    -- Primary levels as the C1 import template writes them (DOMAIN-VN §5.3).
    ('muc_th', 'T', '"T"', 'V2', 'DOMAIN-VN §5.3'),
    ('muc_th', 'H', '"H"', 'V2', 'DOMAIN-VN §5.3'),
    ('muc_th', 'C', '"C"', 'V2', 'DOMAIN-VN §5.3'),
    ('muc_th', 'D', '"Đ"', 'V2', 'DOMAIN-VN §5.3 (phẩm chất, năng lực: T/Đ/C)'),
    ('ket_qua_th', 'HTXS', '"HTXS"', 'U', 'DOMAIN-VN §2; sector code not retrieved'),
    ('ket_qua_th', 'HTT', '"HTT"', 'U', 'DOMAIN-VN §2; sector code not retrieved'),
    ('ket_qua_th', 'HT', '"HT"', 'U', 'DOMAIN-VN §2; sector code not retrieved'),
    ('ket_qua_th', 'CHT', '"CHT"', 'U', 'DOMAIN-VN §2; sector code not retrieved');
-- Mã khối and mã môn học (QĐ 4998): values not retrieved (DOMAIN-VN §4.5,
-- §9.5); the defaults send the grade number and the engine's subject code.
INSERT INTO csdl_code_map (kind, local_code, csdl_code, confidence, source)
SELECT 'khoi', g::text, to_jsonb(g::text), 'U', 'DOMAIN-VN §5.4: QĐ 4998 mã khối not retrieved'
  FROM generate_series(1, 12) g;
INSERT INTO csdl_code_map (kind, local_code, csdl_code, confidence, source)
SELECT DISTINCT 'mon', subject, to_jsonb(subject), 'U',
       'DOMAIN-VN §4.5: QĐ 4998 mã môn học not retrieved'
  FROM subject_configs WHERE school_id IS NULL;

-- ---------------------------------------------------------------------------
-- Security: the tenant, students read nothing of these but their own
-- ratings and year result.

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['record_conduct', 'record_qualities', 'record_year_results',
                             'record_submissions']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant ON %I USING (school_id = kt_school()'
                       ' OR kt_admin_sees(school_id)) WITH CHECK (school_id = kt_school())', t);
    END LOOP;
END
$$;
CREATE POLICY own_rows ON record_conduct AS RESTRICTIVE
    USING (NOT kt_is_student() OR student_id = kt_user());
CREATE POLICY own_rows ON record_qualities AS RESTRICTIVE
    USING (NOT kt_is_student() OR student_id = kt_user());
CREATE POLICY own_rows ON record_year_results AS RESTRICTIVE
    USING (NOT kt_is_student() OR student_id = kt_user());
CREATE POLICY not_students ON record_submissions AS RESTRICTIVE USING (NOT kt_is_student());

ALTER TABLE csdl_code_map ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON csdl_code_map
    USING (school_id IS NULL OR school_id = kt_school() OR kt_admin_sees(school_id))
    WITH CHECK (school_id = kt_school());

GRANT SELECT, INSERT, UPDATE ON record_conduct, record_qualities, record_year_results
    TO kiemtra_app;
GRANT DELETE ON record_qualities TO kiemtra_app; -- a rating cleared
GRANT SELECT, INSERT ON record_submissions TO kiemtra_app;
GRANT SELECT, INSERT, UPDATE ON csdl_code_map TO kiemtra_app;
GRANT USAGE ON SEQUENCE csdl_code_map_id_seq TO kiemtra_app;

-- A locked semester refuses conduct and ratings as it refuses marks (0018).
CREATE TRIGGER record_conduct_locked BEFORE INSERT OR UPDATE OR DELETE ON record_conduct
    FOR EACH ROW EXECUTE FUNCTION kt_locked_term_refuses();
CREATE TRIGGER record_qualities_locked BEFORE INSERT OR UPDATE OR DELETE ON record_qualities
    FOR EACH ROW EXECUTE FUNCTION kt_locked_term_refuses();

-- They are inputs of the year computation: bump the class's generation
-- (0029), so that a year result computed from older input never lands last.
CREATE FUNCTION kt_record_year_inputs_gen() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    v_class bigint[];
    v_year text[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT r.class_id), array_agg(DISTINCT r.school_year)
          INTO v_class, v_year FROM kt_old r;
    ELSE
        SELECT array_agg(k.class_id), array_agg(k.school_year) INTO v_class, v_year
          FROM (SELECT DISTINCT r.class_id, r.school_year FROM kt_new r) k;
    END IF;
    IF v_class IS NOT NULL THEN
        PERFORM kt_record_gen_bump(v_class, v_year);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER record_conduct_gen_insert AFTER INSERT ON record_conduct
    REFERENCING NEW TABLE AS kt_new FOR EACH STATEMENT EXECUTE FUNCTION kt_record_year_inputs_gen();
CREATE TRIGGER record_conduct_gen_update AFTER UPDATE ON record_conduct
    REFERENCING NEW TABLE AS kt_new FOR EACH STATEMENT EXECUTE FUNCTION kt_record_year_inputs_gen();
CREATE TRIGGER record_qualities_gen_insert AFTER INSERT ON record_qualities
    REFERENCING NEW TABLE AS kt_new FOR EACH STATEMENT EXECUTE FUNCTION kt_record_year_inputs_gen();
CREATE TRIGGER record_qualities_gen_update AFTER UPDATE ON record_qualities
    REFERENCING NEW TABLE AS kt_new FOR EACH STATEMENT EXECUTE FUNCTION kt_record_year_inputs_gen();
CREATE TRIGGER record_qualities_gen_delete AFTER DELETE ON record_qualities
    REFERENCING OLD TABLE AS kt_old FOR EACH STATEMENT EXECUTE FUNCTION kt_record_year_inputs_gen();

-- True, or KT403: the caller is the school_admin (or admin) or the class's
-- homeroom teacher (0032).
CREATE FUNCTION kt_require_homeroom(p_class bigint) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    v_name text;
BEGIN
    IF kt_role() IN ('school_admin', 'admin') OR kt_is_homeroom(p_class) THEN
        RETURN true;
    END IF;
    SELECT c.name INTO v_name FROM classes c WHERE c.id = p_class;
    RAISE EXCEPTION 'Chỉ giáo viên chủ nhiệm lớp % hoặc quản trị của trường mới nhập được kết quả rèn luyện, phẩm chất và năng lực',
        coalesce(v_name, p_class::text) USING ERRCODE = 'KT403';
END
$$;
REVOKE ALL ON FUNCTION kt_require_homeroom(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kt_require_homeroom(bigint) TO kiemtra_app;

-- ---------------------------------------------------------------------------
-- The exchange records.

-- The sector's code for one of the engine's codes: the school's row, the
-- default row, or the engine's own code.
CREATE FUNCTION kt_csdl_code(p_school bigint, p_kind text, p_local text) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE WHEN p_local IS NULL THEN NULL ELSE coalesce((
        SELECT m.csdl_code FROM csdl_code_map m
         WHERE m.kind = p_kind AND m.local_code = p_local
           AND (m.school_id = p_school OR m.school_id IS NULL)
         ORDER BY m.school_id NULLS LAST LIMIT 1), to_jsonb(p_local)) END
    $$;
GRANT EXECUTE ON FUNCTION kt_csdl_code(bigint, text, text) TO kiemtra_app;

-- Whether a class's records of a semester (0: the year, with semester II)
-- may go to the sector database: the semester is locked or was submitted.
CREATE FUNCTION kt_records_released(p_class bigint, p_year text, p_semester integer)
    RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
    SELECT EXISTS (SELECT 1 FROM classes c JOIN record_terms t ON t.school_id = c.school_id
                    WHERE c.id = p_class AND t.school_year = p_year
                      AND t.semester = CASE WHEN p_semester = 0 THEN 2 ELSE p_semester END)
        OR EXISTS (SELECT 1 FROM record_submissions s
                    WHERE s.class_id = p_class AND s.school_year = p_year
                      AND s.semester = CASE WHEN p_semester = 0 THEN 2 ELSE p_semester END)
    $$;
REVOKE ALL ON FUNCTION kt_records_released(bigint, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kt_records_released(bigint, text, integer) TO kiemtra_app;

-- The exchange record of one student and semester (0: the year) as the
-- school holds it now, or NULL when it has no result yet.
CREATE FUNCTION kt_exchange_payload(p_class bigint, p_student bigint, p_year text,
                                    p_semester integer)
    RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    WITH c AS (SELECT c.id, c.name, c.grade, c.school_id, s.code AS school_code,
                      CASE WHEN c.grade <= 5 THEN 'TH' WHEN c.grade <= 9 THEN 'THCS'
                           ELSE 'THPT' END AS cap
                 FROM classes c JOIN schools s ON s.id = c.school_id WHERE c.id = p_class),
         u AS (SELECT u.id, u.student_code FROM users u WHERE u.id = p_student),
         y AS (SELECT * FROM record_year_results yr
                WHERE yr.student_id = p_student AND yr.school_year = p_year),
         -- The semester's (or the year's: semester II's) conduct and ratings.
         k AS (SELECT * FROM record_conduct rc WHERE rc.student_id = p_student
                  AND rc.school_year = p_year AND rc.semester = p_semester)
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'ma_truong', c.school_code, 'ma_hoc_sinh', u.student_code, 'nam_hoc', p_year,
        'hoc_ky', p_semester,
        'ma_nhom_cap_hoc', kt_csdl_code(c.school_id, 'cap_hoc', c.cap),
        'ma_khoi', kt_csdl_code(c.school_id, 'khoi', c.grade::text),
        'ma_lop', c.name,
        'diem_mon', coalesce((SELECT jsonb_agg(jsonb_build_object(
            'ma_mon', kt_csdl_code(c.school_id, 'mon', rr.subject),
            'diem', CASE WHEN rr.value ~ '^[0-9]+$' THEN round(rr.value::numeric / 10, 1)
                         WHEN c.grade <= 5 THEN (SELECT (m.value::numeric / 10)::int
                             FROM record_marks m WHERE m.student_id = p_student
                              AND m.subject = rr.subject AND m.school_year = p_year
                              AND m.semester = CASE WHEN p_semester = 0 THEN 2 ELSE p_semester END
                              AND m.slot = 'ck' AND m.value ~ '^[0-9]+$') END,
            'ket_qua', CASE WHEN rr.value !~ '^[0-9]+$' THEN
                CASE WHEN c.grade <= 5 THEN kt_csdl_code(c.school_id, 'muc_th', rr.value)
                     ELSE to_jsonb(rr.value) END END) ORDER BY rr.subject)
            FROM record_results rr WHERE rr.student_id = p_student AND rr.school_year = p_year
              AND rr.semester = p_semester AND rr.subject <> '' AND rr.status = 'ok'), '[]'),
        'ma_hoc_luc', (SELECT kt_csdl_code(c.school_id, 'hoc_luc', rr.value) FROM record_results rr
            WHERE rr.student_id = p_student AND rr.school_year = p_year
              AND rr.semester = p_semester AND rr.subject = '' AND rr.status = 'ok'
              AND c.grade > 5),
        'ma_ren_luyen', CASE WHEN c.grade > 5 THEN
            CASE WHEN p_semester = 0 THEN (SELECT kt_csdl_code(c.school_id, 'ren_luyen', y.conduct) FROM y)
                 ELSE (SELECT kt_csdl_code(c.school_id, 'ren_luyen', k.level) FROM k) END END,
        'so_ngay_nghi', CASE WHEN p_semester = 0 THEN (SELECT y.absent_days FROM y)
                             ELSE (SELECT k.absent_days FROM k) END,
        'pham_chat_nang_luc', CASE WHEN c.grade <= 5 THEN (SELECT jsonb_object_agg(q.aspect,
                kt_csdl_code(c.school_id, 'muc_th', q.level)) FROM record_qualities q
            WHERE q.student_id = p_student AND q.school_year = p_year
              AND q.semester = CASE WHEN p_semester = 0 THEN 2 ELSE p_semester END) END,
        'ma_danh_hieu', CASE WHEN p_semester = 0 THEN
            (SELECT kt_csdl_code(c.school_id, 'danh_hieu', y.award) FROM y) END,
        'xet_len_lop', CASE WHEN p_semester = 0 THEN (SELECT y.promotion FROM y) END,
        'duoc_len_lop', CASE WHEN p_semester = 0 THEN
            (SELECT CASE WHEN y.promotion IS NULL THEN NULL
                         WHEN y.promotion = 'LEN_LOP' THEN 1 ELSE 0 END FROM y) END,
        'ren_luyen_lai', CASE WHEN p_semester = 0 THEN
            (SELECT CASE WHEN y.promotion IS NULL THEN NULL
                         WHEN y.promotion = 'REN_LUYEN_HE' THEN 1 ELSE 0 END FROM y) END,
        'kiem_tra_lai', CASE WHEN p_semester = 0 THEN
            (SELECT CASE WHEN y.promotion IS NULL THEN NULL
                         WHEN y.promotion = 'KIEM_TRA_LAI'
                              OR (y.detail->>'kiem_tra_lai')::boolean THEN 1 ELSE 0 END FROM y) END,
        'ket_qua_giao_duc', CASE WHEN p_semester = 0 THEN
            (SELECT kt_csdl_code(c.school_id, 'ket_qua_th', y.primary_result) FROM y) END,
        'hoan_thanh_chuong_trinh', CASE WHEN p_semester = 0 THEN
            (SELECT CASE WHEN y.completed IS NULL THEN NULL WHEN y.completed THEN 1 ELSE 0 END
               FROM y) END))
      FROM c, u
     WHERE EXISTS (SELECT 1 FROM record_results rr WHERE rr.student_id = p_student
                     AND rr.school_year = p_year AND rr.semester = p_semester
                     AND rr.subject <> '' AND rr.status = 'ok')
    $$;
GRANT EXECUTE ON FUNCTION kt_exchange_payload(bigint, bigint, text, integer) TO kiemtra_app;

-- Brings the outbox of a class and school year up to date: for every
-- released semester, each student's record gets the next version when its
-- content changed (NEW for the first), and a record of the class sent
-- before whose content is gone gets the next version as a CANCEL. Takes
-- the class's generation row lock (0029) first, so it serialises with the
-- recomputations of the class and reads what they committed. Returns the
-- number of records that got a new version.
CREATE FUNCTION kt_outbox_refresh(p_class bigint, p_year text) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_school bigint;
    v_n integer := 0;
    v_c integer := 0;
BEGIN
    SELECT c.school_id INTO v_school FROM classes c WHERE c.id = p_class;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    -- The row lock (the answer, against an impossible generation, is false).
    PERFORM kt_record_gen_hold(p_class, p_year, -1);
    WITH rel AS (SELECT h.sem FROM (VALUES (0), (1), (2)) h(sem)
                  WHERE kt_records_released(p_class, p_year, h.sem)),
         p AS (SELECT x.student, x.record_id, x.payload FROM (
                 SELECT u.id AS student,
                        s.code || '-' || u.student_code || '-' || p_year || '-' || rel.sem
                            AS record_id,
                        kt_exchange_payload(p_class, u.id, p_year, rel.sem) AS payload
                   FROM class_members cm JOIN users u ON u.id = cm.user_id AND u.role = 'student'
                   JOIN schools s ON s.id = v_school, rel
                  WHERE cm.class_id = p_class) x WHERE x.payload IS NOT NULL),
         o AS (INSERT INTO csdl_outbox AS ob (record_id, school_id, student_id, class_id, version,
                                              event, payload)
               SELECT p.record_id, v_school, p.student, p_class, 1, 'NEW', p.payload FROM p
               ON CONFLICT (record_id) DO UPDATE SET version = ob.version + 1,
                   event = 'UPDATE', payload = EXCLUDED.payload, class_id = EXCLUDED.class_id,
                   next_attempt_at = now(), attempts = 0, updated_at = now()
               WHERE ob.payload IS DISTINCT FROM EXCLUDED.payload OR ob.event = 'CANCEL'
               RETURNING 1)
    SELECT count(*) INTO v_n FROM o;
    -- Records of this class whose content is gone.
    WITH rel AS (SELECT h.sem FROM (VALUES (0), (1), (2)) h(sem)
                  WHERE kt_records_released(p_class, p_year, h.sem)),
         gone AS (SELECT ob.record_id FROM csdl_outbox ob
                   WHERE ob.class_id = p_class AND ob.event <> 'CANCEL'
                     AND ob.payload->>'nam_hoc' = p_year
                     AND (ob.payload->>'hoc_ky')::int IN (SELECT sem FROM rel)
                     AND (NOT EXISTS (SELECT 1 FROM class_members cm WHERE cm.class_id = p_class
                                        AND cm.user_id = ob.student_id)
                          OR kt_exchange_payload(p_class, ob.student_id, p_year,
                                                 (ob.payload->>'hoc_ky')::int) IS NULL)),
         x AS (UPDATE csdl_outbox ob SET version = ob.version + 1, event = 'CANCEL',
                   payload = jsonb_build_object('ma_truong', ob.payload->'ma_truong',
                       'ma_hoc_sinh', ob.payload->'ma_hoc_sinh', 'nam_hoc', ob.payload->'nam_hoc',
                       'hoc_ky', ob.payload->'hoc_ky', 'ma_lop', ob.payload->'ma_lop'),
                   next_attempt_at = now(), attempts = 0, updated_at = now()
                FROM gone WHERE ob.record_id = gone.record_id RETURNING 1)
    SELECT count(*) INTO v_c FROM x;
    RETURN v_n + v_c;
END
$$;
GRANT EXECUTE ON FUNCTION kt_outbox_refresh(bigint, text) TO kiemtra_app;
