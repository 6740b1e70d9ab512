-- 0020: teaching assignments (phân công giảng dạy): which teacher teaches
-- which subject to which class. A school_admin manages them; what a teacher
-- may write is bounded by them:
--   items            of a subject the teacher teaches (any class) or the
--                    teacher's own subject (users.subject, the tổ);
--   sessions, extra time, marks, releases, learner records
--                    of classes the teacher teaches that subject to.
-- A subject_head has the rights of a teacher for the assigned classes, and
-- reviews the items of users.subject. A school_admin is not bounded.
--
-- The helpers below answer for the caller of the transaction
-- (kiemtra.user_id, kiemtra.role); they are SECURITY DEFINER so that they
-- read the assignments and users without recursing into row-level security.

CREATE TABLE teaching_assignments (
    id          bigserial PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES schools(id),
    teacher_id  bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    subject     text NOT NULL CHECK (subject ~ '^[A-Z][A-Z0-9]*(\.[A-Z0-9]+)*$'),
    class_id    bigint NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    created_by  bigint REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (teacher_id, subject, class_id)
);
CREATE INDEX teaching_assignments_class_idx ON teaching_assignments (class_id, subject);
CREATE INDEX teaching_assignments_school_idx ON teaching_assignments (school_id);

ALTER TABLE teaching_assignments ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON teaching_assignments
    USING (school_id = kt_school() OR kt_admin_sees(school_id))
    WITH CHECK (school_id = kt_school() OR kt_admin_sees(school_id));
CREATE POLICY not_students ON teaching_assignments AS RESTRICTIVE USING (NOT kt_is_student());

GRANT SELECT, INSERT, DELETE ON teaching_assignments TO kiemtra_app;
GRANT USAGE ON SEQUENCE teaching_assignments_id_seq TO kiemtra_app;

-- The caller's role as the gateway set it.
CREATE FUNCTION kt_role() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('kiemtra.role', true), '') $$;

-- True when the caller is not bounded by assignments (school_admin, admin)
-- or the caller teaches the subject in some class, or it is the caller's
-- own subject (users.subject).
CREATE FUNCTION kt_teaches_subject(p_subject text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT kt_role() IN ('school_admin', 'admin')
            OR (kt_role() IN ('teacher', 'subject_head')
                AND (EXISTS (SELECT 1 FROM teaching_assignments a
                              WHERE a.teacher_id = kt_user() AND a.subject = p_subject)
                     OR EXISTS (SELECT 1 FROM users u
                                 WHERE u.id = kt_user() AND u.subject = p_subject)))
    $$;

-- True when the caller is not bounded by assignments or teaches p_subject
-- to the class.
CREATE FUNCTION kt_teaches_class(p_class bigint, p_subject text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT kt_role() IN ('school_admin', 'admin')
            OR (kt_role() IN ('teacher', 'subject_head')
                AND EXISTS (SELECT 1 FROM teaching_assignments a
                             WHERE a.teacher_id = kt_user() AND a.class_id = p_class
                               AND a.subject = p_subject))
    $$;

-- True when the caller is not bounded or teaches the class any subject (a
-- student's password reset on exam day).
CREATE FUNCTION kt_teaches_any(p_class bigint) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT kt_role() IN ('school_admin', 'admin')
            OR (kt_role() IN ('teacher', 'subject_head')
                AND EXISTS (SELECT 1 FROM teaching_assignments a
                             WHERE a.teacher_id = kt_user() AND a.class_id = p_class))
    $$;

GRANT EXECUTE ON FUNCTION kt_role(), kt_teaches_subject(text), kt_teaches_class(bigint, text),
    kt_teaches_any(bigint) TO kiemtra_app;
