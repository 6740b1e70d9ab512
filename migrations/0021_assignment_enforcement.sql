-- 0021: the teaching assignments of 0020 enforced by the database. When the
-- caller is a teacher or subject_head (kiemtra.role), triggers refuse a
-- write outside what they teach, SQLSTATE KT403 (answered 403
-- not_assigned), whatever the statement that makes it:
--   items, item_versions,   of a subject the caller teaches in some class
--   item_max_scores         or that is their own (kt_teaches_subject);
--   sessions                created for a test of such a subject; changed
--                           (release, times) only when the caller teaches
--                           the test's subject to every class of it;
--   session_classes         a class the caller teaches the test's subject;
--   attempts                extra time, and attempt_scores manual marks
--                           (marked_by set), only for a student of a class
--                           of the session that the caller teaches the
--                           test's subject;
--   record_marks            added, changed or removed only for a class the
--                           caller teaches that subject.
-- Other roles pass untouched: students (saves, starts, submits), the
-- gateway's grader (role 'grader'), the expiry job and the outbox (no
-- role), school_admin and admin.
--
-- The same checks are callable from a handler's statement (kt_require_*),
-- so that the handler's check and its write are one statement: each
-- returns true or raises KT403 with a Vietnamese message naming the
-- subject and, where there is one, the class
-- ("Thầy/cô không được phân công dạy môn TOAN ở lớp 10A2"); the gateway
-- completes the sentence with what was refused.

CREATE FUNCTION kt_bounded() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(kt_role() IN ('teacher', 'subject_head'), false) $$;

CREATE FUNCTION kt_not_assigned(p_subject text, p_class bigint) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    v_name text;
BEGIN
    IF p_class IS NULL THEN
        RAISE EXCEPTION 'Thầy/cô không được phân công dạy môn %', p_subject
            USING ERRCODE = 'KT403';
    END IF;
    SELECT c.name INTO v_name FROM classes c WHERE c.id = p_class;
    RAISE EXCEPTION 'Thầy/cô không được phân công dạy môn % ở lớp %', p_subject,
        coalesce(v_name, p_class::text) USING ERRCODE = 'KT403';
END
$$;

-- True, or KT403: the caller may write items of p_subject. A NULL subject
-- (nothing to check) passes.
CREATE FUNCTION kt_require_subject(p_subject text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    IF p_subject IS NOT NULL AND kt_bounded() AND NOT kt_teaches_subject(p_subject) THEN
        PERFORM kt_not_assigned(p_subject, NULL);
    END IF;
    RETURN true;
END
$$;

-- True, or KT403: the caller teaches p_subject to the class.
CREATE FUNCTION kt_require_class(p_class bigint, p_subject text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    IF kt_bounded() AND NOT kt_teaches_class(p_class, p_subject) THEN
        PERFORM kt_not_assigned(p_subject, p_class);
    END IF;
    RETURN true;
END
$$;

-- True, or KT403: the caller teaches the test's subject to every class of
-- the session (a release, a change of its times). The first class not
-- taught is named.
CREATE FUNCTION kt_require_session(p_session bigint) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    v_subject text;
    v_class bigint;
BEGIN
    IF NOT kt_bounded() THEN
        RETURN true;
    END IF;
    SELECT t.subject, sc.class_id INTO v_subject, v_class
      FROM sessions s JOIN tests t ON t.id = s.test_id
      JOIN session_classes sc ON sc.session_id = s.id
      JOIN classes c ON c.id = sc.class_id
     WHERE s.id = p_session AND NOT kt_teaches_class(sc.class_id, t.subject)
     ORDER BY c.name, c.id LIMIT 1;
    IF FOUND THEN
        PERFORM kt_not_assigned(v_subject, v_class);
    END IF;
    RETURN true;
END
$$;

-- True, or KT403: the caller teaches the test's subject to a class of the
-- session that the attempt's student belongs to (extra time, a mark). The
-- student's class in the session is named (else the session's first).
CREATE FUNCTION kt_require_attempt(p_attempt bigint) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    v_subject text;
    v_session bigint;
    v_student bigint;
    v_class bigint;
BEGIN
    IF NOT kt_bounded() THEN
        RETURN true;
    END IF;
    SELECT t.subject, a.session_id, a.student_id INTO v_subject, v_session, v_student
      FROM attempts a JOIN sessions s ON s.id = a.session_id JOIN tests t ON t.id = s.test_id
     WHERE a.id = p_attempt;
    IF NOT FOUND THEN
        RETURN true; -- nothing to write to
    END IF;
    IF EXISTS (SELECT 1 FROM session_classes sc
                 JOIN class_members m ON m.class_id = sc.class_id AND m.user_id = v_student
                WHERE sc.session_id = v_session AND kt_teaches_class(sc.class_id, v_subject)) THEN
        RETURN true;
    END IF;
    SELECT sc.class_id INTO v_class
      FROM session_classes sc JOIN classes c ON c.id = sc.class_id
     WHERE sc.session_id = v_session
     ORDER BY EXISTS (SELECT 1 FROM class_members m
                       WHERE m.class_id = sc.class_id AND m.user_id = v_student) DESC,
              c.name, c.id
     LIMIT 1;
    PERFORM kt_not_assigned(v_subject, v_class);
    RETURN false;
END
$$;

GRANT EXECUTE ON FUNCTION kt_bounded(), kt_require_subject(text), kt_require_class(bigint, text),
    kt_require_session(bigint), kt_require_attempt(bigint) TO kiemtra_app;
REVOKE ALL ON FUNCTION kt_not_assigned(text, bigint) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Triggers. Each fires only for a bounded caller (the WHEN clause), so the
-- writes of students, the grader and the background jobs cost nothing.
-- The functions are SECURITY DEFINER and VOLATILE: they read the rows a
-- sibling part of the same statement wrote (an item with its first
-- version, a session with its classes).

CREATE FUNCTION kt_assigned_write() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    v_subject text;
BEGIN
    IF TG_TABLE_NAME = 'items' THEN
        PERFORM kt_require_subject(NEW.subject);
        IF TG_OP = 'UPDATE' AND OLD.subject IS DISTINCT FROM NEW.subject THEN
            PERFORM kt_require_subject(OLD.subject);
        END IF;
    ELSIF TG_TABLE_NAME IN ('item_versions', 'item_max_scores') THEN
        SELECT i.subject INTO v_subject FROM items i WHERE i.id = NEW.item_id;
        PERFORM kt_require_subject(v_subject);
    ELSIF TG_TABLE_NAME = 'sessions' THEN
        IF TG_OP = 'INSERT' THEN
            SELECT t.subject INTO v_subject FROM tests t WHERE t.id = NEW.test_id;
            PERFORM kt_require_subject(v_subject);
        ELSE
            PERFORM kt_require_session(OLD.id);
        END IF;
    ELSIF TG_TABLE_NAME = 'session_classes' THEN
        SELECT t.subject INTO v_subject
          FROM sessions s JOIN tests t ON t.id = s.test_id WHERE s.id = NEW.session_id;
        PERFORM kt_require_class(NEW.class_id, v_subject);
    ELSIF TG_TABLE_NAME = 'attempts' THEN
        IF OLD.extra_seconds IS DISTINCT FROM NEW.extra_seconds THEN
            PERFORM kt_require_attempt(OLD.id);
        END IF;
    ELSIF TG_TABLE_NAME = 'attempt_scores' THEN
        -- A mark sets marked_by and marked_at; a regrade that keeps a
        -- teacher's mark (notes in detail only) is not a mark.
        IF NEW.marked_by IS NOT NULL
           AND (TG_OP = 'INSERT'
                OR (OLD.score, OLD.marked_by, OLD.marked_at)
                   IS DISTINCT FROM (NEW.score, NEW.marked_by, NEW.marked_at)) THEN
            PERFORM kt_require_attempt(NEW.attempt_id);
        END IF;
    ELSIF TG_TABLE_NAME = 'record_marks' THEN
        IF TG_OP <> 'INSERT' THEN
            PERFORM kt_require_class(OLD.class_id, OLD.subject);
        END IF;
        IF TG_OP <> 'DELETE'
           AND (TG_OP = 'INSERT' OR (OLD.class_id, OLD.subject)
                                    IS DISTINCT FROM (NEW.class_id, NEW.subject)) THEN
            PERFORM kt_require_class(NEW.class_id, NEW.subject);
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER items_assigned BEFORE INSERT OR UPDATE ON items
    FOR EACH ROW WHEN (kt_bounded()) EXECUTE FUNCTION kt_assigned_write();
CREATE TRIGGER item_versions_assigned BEFORE INSERT ON item_versions
    FOR EACH ROW WHEN (kt_bounded()) EXECUTE FUNCTION kt_assigned_write();
CREATE TRIGGER item_max_scores_assigned BEFORE INSERT OR UPDATE ON item_max_scores
    FOR EACH ROW WHEN (kt_bounded()) EXECUTE FUNCTION kt_assigned_write();
CREATE TRIGGER sessions_assigned BEFORE INSERT OR UPDATE ON sessions
    FOR EACH ROW WHEN (kt_bounded()) EXECUTE FUNCTION kt_assigned_write();
CREATE TRIGGER session_classes_assigned BEFORE INSERT OR UPDATE ON session_classes
    FOR EACH ROW WHEN (kt_bounded()) EXECUTE FUNCTION kt_assigned_write();
CREATE TRIGGER attempts_assigned BEFORE UPDATE ON attempts
    FOR EACH ROW WHEN (OLD.extra_seconds IS DISTINCT FROM NEW.extra_seconds AND kt_bounded())
    EXECUTE FUNCTION kt_assigned_write();
CREATE TRIGGER attempt_scores_assigned BEFORE INSERT OR UPDATE ON attempt_scores
    FOR EACH ROW WHEN (NEW.marked_by IS NOT NULL AND kt_bounded())
    EXECUTE FUNCTION kt_assigned_write();
CREATE TRIGGER record_marks_assigned BEFORE INSERT OR UPDATE OR DELETE ON record_marks
    FOR EACH ROW WHEN (kt_bounded()) EXECUTE FUNCTION kt_assigned_write();
