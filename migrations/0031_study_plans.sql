-- 0031: upper-secondary study plans (kế hoạch giáo dục của lớp) and what
-- the records compute over.
--
-- Under GDPT 2018 a THPT pupil (grades 10-12) studies the compulsory
-- subjects plus the elective subjects and learning topics (chuyên đề học
-- tập) the class chose (DOMAIN-VN §4.1: compulsory Ngữ văn, Toán, Ngoại ngữ
-- 1, Lịch sử, GDTC, GDQP-AN, HĐTN-HN, local content; 4 of 9 electives,
-- TT 13/2022 [V2]). The academic level of TT22 Điều 9 is computed over the
-- subjects each pupil actually studies:
--   * subject_configs.compulsory marks the subjects every pupil of the
--     grade studies (rule-set data: a school may add its own rows);
--   * class_study_plans: the class's electives (kind 'elective') and topics
--     (kind 'topic', code <SUBJECT>.CD<n>; a topic is assessed inside its
--     subject, one ĐĐGtx of it [U], and is not a subject of its own for the
--     level);
--   * student_study_choices: a pupil whose choice differs from the class's
--     (studies = true adds a subject, false drops one).
-- kt_student_subjects() gives a pupil's subjects, or NULL while the class
-- has no plan (a THPT level is then not computed, with that reason).
--
-- Also: Giáo dục quốc phòng và an ninh (GDQPAN) as a scored compulsory
-- subject of grades 10-12; its period count (35 a year, so 2 ĐĐGtx per
-- semester by TT22 Điều 6 khoản 2) is [U] data a school can override.
-- And the teacher's comment (nhận xét) of a subject and semester, stored
-- as the slot 'nx' of record_marks (free text, not used by the rules).

ALTER TABLE subject_configs ADD COLUMN compulsory boolean NOT NULL DEFAULT false;

UPDATE subject_configs SET compulsory = true,
       source = source || '; compulsory: DOMAIN-VN §4.1 [V2]'
 WHERE school_id IS NULL AND grade BETWEEN 10 AND 12
   AND subject IN ('NV', 'TOAN', 'NN1', 'LS', 'GDTC', 'HDTN', 'GDDP');

INSERT INTO subject_configs (subject, grade, name, mode, periods_per_year, tx_slots, source,
                             compulsory)
SELECT 'GDQPAN', g, 'Giáo dục quốc phòng và an ninh', 'score', 35, NULL,
       'DOMAIN-VN §4.1 (compulsory, scored: not in the comment-only list of §1.1); '
       '35 periods [U]', true
  FROM generate_series(10, 12) g;

ALTER TABLE record_marks DROP CONSTRAINT record_marks_slot_check;
ALTER TABLE record_marks ADD CONSTRAINT record_marks_slot_check
    CHECK (slot ~ '^(tx[1-9]|gk|ck|level_gk|level_ck|nx)$');

CREATE TABLE class_study_plans (
    class_id    bigint NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    school_id   bigint NOT NULL REFERENCES schools(id),
    subject     text NOT NULL CHECK (subject ~ '^[A-Z][A-Z0-9]*(\.[A-Z0-9]+)*$'),
    kind        text NOT NULL CHECK (kind IN ('elective', 'topic')),
    PRIMARY KEY (class_id, subject)
);

CREATE TABLE student_study_choices (
    class_id    bigint NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    student_id  bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    school_id   bigint NOT NULL REFERENCES schools(id),
    subject     text NOT NULL CHECK (subject ~ '^[A-Z][A-Z0-9]*(\.[A-Z0-9]+)*$'),
    studies     boolean NOT NULL,
    PRIMARY KEY (class_id, student_id, subject)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['class_study_plans', 'student_study_choices']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant ON %I USING (school_id = kt_school()'
                       ' OR kt_admin_sees(school_id)) WITH CHECK (school_id = kt_school())', t);
        EXECUTE format('CREATE POLICY not_students ON %I AS RESTRICTIVE'
                       ' USING (NOT kt_is_student())', t);
    END LOOP;
END
$$;
GRANT SELECT, INSERT, DELETE ON class_study_plans, student_study_choices TO kiemtra_app;

-- The subject configuration rows of a class's grade, the school's rows
-- winning over the defaults (as the gateway's SUBJECTS_OF_GRADE).
CREATE FUNCTION kt_class_subject_configs(p_class bigint) RETURNS SETOF subject_configs
    LANGUAGE sql STABLE
    AS $$
    SELECT sc.* FROM classes c JOIN subject_configs sc ON sc.grade = c.grade
     WHERE c.id = p_class
       AND (sc.school_id = c.school_id
            OR (sc.school_id IS NULL AND NOT EXISTS (
                  SELECT 1 FROM subject_configs o WHERE o.school_id = c.school_id
                     AND o.subject = sc.subject AND o.grade = sc.grade)))
    $$;

-- A pupil's subjects in a class (codes, sorted): the compulsory subjects,
-- the class's electives, the pupil's own additions, minus the pupil's
-- drops. NULL when the class has no study plan.
CREATE FUNCTION kt_student_subjects(p_class bigint, p_student bigint) RETURNS text[]
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM class_study_plans p WHERE p.class_id = p_class)
           THEN NULL
           ELSE ARRAY(
               SELECT x.subject FROM (
                   SELECT sc.subject FROM kt_class_subject_configs(p_class) sc
                    WHERE sc.compulsory
                   UNION
                   SELECT p.subject FROM class_study_plans p
                    WHERE p.class_id = p_class AND p.kind = 'elective'
                   UNION
                   SELECT ch.subject FROM student_study_choices ch
                    WHERE ch.class_id = p_class AND ch.student_id = p_student AND ch.studies
                   EXCEPT
                   SELECT ch.subject FROM student_study_choices ch
                    WHERE ch.class_id = p_class AND ch.student_id = p_student AND NOT ch.studies
               ) x ORDER BY x.subject)
           END
    $$;
GRANT EXECUTE ON FUNCTION kt_class_subject_configs(bigint), kt_student_subjects(bigint, bigint)
    TO kiemtra_app;

-- Replaces a class's study plan in one transaction:
--   p_plan = {"electives": ["LY", ...], "topics": ["TOAN.CD1", ...],
--             "exceptions": [{"student_id": 5, "add": ["DIA"], "drop": ["SINH"]}]}
-- Checks every entry against the class's grade configuration and members;
-- returns {"ok": true} after writing (and an audit row), or
-- {"ok": false, "errors": [{"field", "message"}]} having written nothing.
-- An empty plan (no electives, no topics, no exceptions) removes the plan.
-- Runs as the caller (RLS applies); the handler lets only a school_admin
-- call it.
CREATE FUNCTION kt_study_plan_set(p_class bigint, p_plan jsonb, p_actor bigint) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_class classes%ROWTYPE;
    v_errors jsonb := '[]';
    v_old jsonb;
    v_code text;
    v_cfg subject_configs%ROWTYPE;
    v_ex jsonb;
    v_student bigint;
    i integer := 0;
BEGIN
    SELECT * INTO v_class FROM classes WHERE id = p_class;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('ok', false, 'not_found', true);
    END IF;
    IF v_class.grade < 10 THEN
        RETURN jsonb_build_object('ok', false, 'errors', jsonb_build_array(jsonb_build_object(
            'field', 'class', 'message', format('Lớp %s là khối %s: kế hoạch môn tự chọn và '
            'chuyên đề học tập chỉ có ở THPT (khối 10 đến 12).', v_class.name, v_class.grade))));
    END IF;
    FOR v_code IN SELECT jsonb_array_elements_text(coalesce(p_plan->'electives', '[]')) LOOP
        SELECT * INTO v_cfg FROM kt_class_subject_configs(p_class) sc WHERE sc.subject = v_code;
        IF NOT FOUND THEN
            v_errors := v_errors || jsonb_build_object('field', 'electives', 'message',
                format('Môn %s không có trong cấu hình môn học của khối %s.', v_code,
                       v_class.grade));
        ELSIF v_cfg.compulsory THEN
            v_errors := v_errors || jsonb_build_object('field', 'electives', 'message',
                format('Môn %s (%s) là môn bắt buộc, mọi học sinh đều học; không ghi vào môn '
                       'lựa chọn.', v_code, v_cfg.name));
        END IF;
    END LOOP;
    FOR v_code IN SELECT jsonb_array_elements_text(coalesce(p_plan->'topics', '[]')) LOOP
        IF v_code !~ '^[A-Z][A-Z0-9]*\.CD[0-9]+$' OR NOT EXISTS (
               SELECT 1 FROM kt_class_subject_configs(p_class) sc
                WHERE sc.subject = split_part(v_code, '.', 1)) THEN
            v_errors := v_errors || jsonb_build_object('field', 'topics', 'message',
                format('Chuyên đề %s: mã chuyên đề viết <MÃ MÔN>.CD<số> (ví dụ TOAN.CD1) với '
                       'một môn của khối %s.', v_code, v_class.grade));
        END IF;
    END LOOP;
    FOR v_ex IN SELECT jsonb_array_elements(coalesce(p_plan->'exceptions', '[]')) LOOP
        i := i + 1;
        v_student := CASE WHEN jsonb_typeof(v_ex->'student_id') = 'number'
                          THEN (v_ex->>'student_id')::bigint END;
        IF v_student IS NULL OR NOT EXISTS (
               SELECT 1 FROM class_members cm JOIN users u ON u.id = cm.user_id
                WHERE cm.class_id = p_class AND cm.user_id = v_student AND u.role = 'student') THEN
            v_errors := v_errors || jsonb_build_object('field', format('exceptions[%s].student_id', i),
                'message', format('Ngoại lệ thứ %s: học sinh không thuộc lớp %s.', i,
                                  v_class.name));
        END IF;
        FOR v_code IN SELECT jsonb_array_elements_text(coalesce(v_ex->'add', '[]'))
                      UNION ALL SELECT jsonb_array_elements_text(coalesce(v_ex->'drop', '[]')) LOOP
            IF NOT EXISTS (SELECT 1 FROM kt_class_subject_configs(p_class) sc
                            WHERE sc.subject = v_code) THEN
                v_errors := v_errors || jsonb_build_object('field', format('exceptions[%s]', i),
                    'message', format('Ngoại lệ thứ %s: môn %s không có trong cấu hình môn học '
                                      'của khối %s.', i, v_code, v_class.grade));
            END IF;
        END LOOP;
    END LOOP;
    IF jsonb_array_length(v_errors) > 0 THEN
        RETURN jsonb_build_object('ok', false, 'errors', v_errors);
    END IF;

    SELECT jsonb_build_object('plan', coalesce((SELECT jsonb_agg(jsonb_build_object(
               'subject', p.subject, 'kind', p.kind) ORDER BY p.subject)
             FROM class_study_plans p WHERE p.class_id = p_class), '[]'),
           'choices', coalesce((SELECT jsonb_agg(jsonb_build_object('student_id', ch.student_id,
               'subject', ch.subject, 'studies', ch.studies) ORDER BY ch.student_id, ch.subject)
             FROM student_study_choices ch WHERE ch.class_id = p_class), '[]'))
      INTO v_old;
    DELETE FROM student_study_choices WHERE class_id = p_class;
    DELETE FROM class_study_plans WHERE class_id = p_class;
    INSERT INTO class_study_plans (class_id, school_id, subject, kind)
    SELECT p_class, v_class.school_id, x, 'elective'
      FROM jsonb_array_elements_text(coalesce(p_plan->'electives', '[]')) x
    UNION
    SELECT p_class, v_class.school_id, x, 'topic'
      FROM jsonb_array_elements_text(coalesce(p_plan->'topics', '[]')) x;
    INSERT INTO student_study_choices (class_id, student_id, school_id, subject, studies)
    SELECT DISTINCT ON (s, x) p_class, s, v_class.school_id, x, d
      FROM (SELECT (e->>'student_id')::bigint s, a x, true d
              FROM jsonb_array_elements(coalesce(p_plan->'exceptions', '[]')) e,
                   jsonb_array_elements_text(coalesce(e->'add', '[]')) a
            UNION ALL
            SELECT (e->>'student_id')::bigint, r, false
              FROM jsonb_array_elements(coalesce(p_plan->'exceptions', '[]')) e,
                   jsonb_array_elements_text(coalesce(e->'drop', '[]')) r) k
     ORDER BY s, x, d; -- a subject both added and dropped: dropped
    INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value, new_value)
    VALUES (v_class.school_id, p_actor, 'class.study_plan', 'class', p_class::text, v_old, p_plan);
    RETURN jsonb_build_object('ok', true);
END
$$;
GRANT EXECUTE ON FUNCTION kt_study_plan_set(bigint, jsonb, bigint) TO kiemtra_app;

-- A plan change is an input of the computation (migration 0029): bump the
-- class's generation.
CREATE FUNCTION kt_study_plan_gen() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    v_class bigint[];
    v_year text[];
BEGIN
    SELECT array_agg(c.id), array_agg(c.school_year) INTO v_class, v_year
      FROM classes c WHERE c.id IN (SELECT class_id FROM kt_rows);
    IF v_class IS NOT NULL THEN
        PERFORM kt_record_gen_bump(v_class, v_year);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER class_study_plans_gen_ins AFTER INSERT ON class_study_plans
    REFERENCING NEW TABLE AS kt_rows FOR EACH STATEMENT EXECUTE FUNCTION kt_study_plan_gen();
CREATE TRIGGER class_study_plans_gen_del AFTER DELETE ON class_study_plans
    REFERENCING OLD TABLE AS kt_rows FOR EACH STATEMENT EXECUTE FUNCTION kt_study_plan_gen();
CREATE TRIGGER student_study_choices_gen_ins AFTER INSERT ON student_study_choices
    REFERENCING NEW TABLE AS kt_rows FOR EACH STATEMENT EXECUTE FUNCTION kt_study_plan_gen();
CREATE TRIGGER student_study_choices_gen_del AFTER DELETE ON student_study_choices
    REFERENCING OLD TABLE AS kt_rows FOR EACH STATEMENT EXECUTE FUNCTION kt_study_plan_gen();

-- The recomputation removes the results of a subject a student no longer
-- studies.
GRANT DELETE ON record_results TO kiemtra_app;
