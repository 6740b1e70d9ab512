-- 0028: lifting a semester lock (mở khoá sổ điểm).
--
-- The application role still cannot move or lift a lock by itself: it has
-- no UPDATE (revoked in 0018) and no DELETE on record_terms. A lock is
-- lifted only through kt_term_unlock(), which answers for the caller of the
-- transaction (kiemtra.role, kiemtra.school_id, kiemtra.user_id as the
-- gateway set them): a school_admin of the school, with a reason, and the
-- lock's removal and its audit row (the old lock, the reason) are written
-- together. Returns true when a lock was lifted, false when the semester
-- was not locked (nothing written). KT403 for any other caller; 22023 for
-- a missing reason.

CREATE FUNCTION kt_term_unlock(p_year text, p_semester smallint, p_reason text)
    RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    v_school bigint := kt_school();
    v_user bigint := kt_user();
    v_lock record_terms%ROWTYPE;
BEGIN
    IF kt_role() IS DISTINCT FROM 'school_admin' OR v_school IS NULL OR v_user IS NULL THEN
        RAISE EXCEPTION 'Chỉ quản trị của trường mới mở khoá sổ điểm được'
            USING ERRCODE = 'KT403';
    END IF;
    IF p_reason IS NULL OR length(btrim(p_reason)) = 0 OR length(p_reason) > 500 THEN
        RAISE EXCEPTION 'cần lí do mở khoá (1 đến 500 kí tự)' USING ERRCODE = '22023';
    END IF;
    DELETE FROM record_terms t
     WHERE t.school_id = v_school AND t.school_year = p_year AND t.semester = p_semester
    RETURNING * INTO v_lock;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value, new_value)
    VALUES (v_school, v_user, 'record.unlock', 'record_term', p_year || '/' || p_semester,
            jsonb_build_object('school_year', p_year, 'semester', p_semester,
                               'locked_by', v_lock.locked_by, 'locked_at', v_lock.locked_at),
            jsonb_build_object('school_year', p_year, 'semester', p_semester,
                               'reason', btrim(p_reason)));
    RETURN true;
END
$$;
REVOKE ALL ON FUNCTION kt_term_unlock(text, smallint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kt_term_unlock(text, smallint, text) TO kiemtra_app;

-- The invariant, stated again: only the function above lifts a lock.
REVOKE UPDATE, DELETE, TRUNCATE ON record_terms FROM kiemtra_app;
