-- 0032: who may enter marks in the learner records.
--
-- Only the teacher assigned to the class and subject (teaching_assignments,
-- 0020), the class's homeroom teacher (giáo viên chủ nhiệm) or the
-- school_admin may add, change or remove a mark of record_marks. 0021
-- already refused a bounded caller (teacher, subject_head) outside their
-- assignments, in the handler's statement (kt_require_class) and in the
-- trigger; this adds the homeroom teacher, set by the school_admin in
-- classes.homeroom_teacher_id, to both: kt_require_record() replaces
-- kt_require_class() for record_marks. Refusals stay SQLSTATE KT403 with
-- the message of kt_not_assigned() (403 not_assigned).

ALTER TABLE classes ADD COLUMN homeroom_teacher_id bigint REFERENCES users(id) ON DELETE SET NULL;
-- (kiemtra_app already has UPDATE on classes, 0001; the handler sets it for a school_admin.)

-- True when the caller is the homeroom teacher of the class.
CREATE FUNCTION kt_is_homeroom(p_class bigint) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT kt_role() IN ('teacher', 'subject_head')
           AND EXISTS (SELECT 1 FROM classes c
                        WHERE c.id = p_class AND c.homeroom_teacher_id = kt_user())
    $$;

-- True, or KT403: the caller may write marks of p_subject in the class's
-- records (not bounded, assigned, or the homeroom teacher).
CREATE FUNCTION kt_require_record(p_class bigint, p_subject text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    IF kt_bounded() AND NOT kt_teaches_class(p_class, p_subject)
       AND NOT kt_is_homeroom(p_class) THEN
        PERFORM kt_not_assigned(p_subject, p_class);
    END IF;
    RETURN true;
END
$$;
GRANT EXECUTE ON FUNCTION kt_is_homeroom(bigint), kt_require_record(bigint, text) TO kiemtra_app;

-- The record_marks trigger of 0021, now through kt_require_record.
CREATE FUNCTION kt_record_marks_assigned() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM kt_require_record(OLD.class_id, OLD.subject);
    END IF;
    IF TG_OP <> 'DELETE'
       AND (TG_OP = 'INSERT' OR (OLD.class_id, OLD.subject)
                                IS DISTINCT FROM (NEW.class_id, NEW.subject)) THEN
        PERFORM kt_require_record(NEW.class_id, NEW.subject);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
DROP TRIGGER record_marks_assigned ON record_marks;
CREATE TRIGGER record_marks_assigned BEFORE INSERT OR UPDATE OR DELETE ON record_marks
    FOR EACH ROW WHEN (kt_bounded()) EXECUTE FUNCTION kt_record_marks_assigned();
