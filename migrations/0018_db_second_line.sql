-- 0018: the database as a second line behind the gateway's own checks, and
-- an outbox that sends each record version once however many gateways run.
--
-- Reads under a student's tenant (kiemtra.role = 'student'): no item, item
-- version (keys, score tables, rubrics) or QTI test at all; only the
-- student's own user row; only the forms of the student's own attempts.
-- The application role reads no password hash, whatever the tenant: users
-- is granted column by column (a new column of users needs its own GRANT).
--
-- Writes, refused for every role (a migration that must rewrite history
-- disables the trigger for its own statement):
--   item_versions   a version never changes (its content, key, tags...)
--                   and is never deleted; an edit is a new version.
--   tests           a published test never changes, nor do its forms;
--   test_forms,     of its items only the scoring version moves (regrade).
--   test_items      SQLSTATE KT412.
--   record_marks    no mark of a locked semester is added, changed or
--   record_results  removed, nor a computed result (status, value) of it;
--                   the year's results are locked with both semesters.
--                   SQLSTATE KT423, answered 409 term_locked.
--   record_terms    a lock is never moved or lifted by the application.
--
-- The outbox: a gateway claims one record at a time for a lease
-- (claimed_by, claimed_until) in a committed statement, sends the claimed
-- version, then acknowledges it under the same claim. Another gateway skips
-- a claimed record until the lease has run out (its holder died), so each
-- version is sent once; the receiver's own check of the version (409 for
-- one it holds) covers a gateway that dies between sending and acknowledging.

-- ---------------------------------------------------------------------------
-- Reads.

CREATE POLICY not_students ON items AS RESTRICTIVE USING (NOT kt_is_student());
CREATE POLICY not_students ON item_versions AS RESTRICTIVE USING (NOT kt_is_student());
CREATE POLICY not_students ON qti_tests AS RESTRICTIVE USING (NOT kt_is_student());
CREATE POLICY own_row ON users AS RESTRICTIVE USING (NOT kt_is_student() OR id = kt_user());

CREATE INDEX attempts_student_form_idx ON attempts (student_id, form_id);
CREATE POLICY own_forms ON test_forms AS RESTRICTIVE
    USING (NOT kt_is_student()
           OR id IN (SELECT a.form_id FROM attempts a WHERE a.student_id = kt_user()));

REVOKE SELECT ON users FROM kiemtra_app;
DO $$
BEGIN
    EXECUTE (SELECT format('GRANT SELECT (%s) ON users TO kiemtra_app',
                           string_agg(quote_ident(attname), ', ' ORDER BY attnum))
               FROM pg_attribute
              WHERE attrelid = 'users'::regclass AND attnum > 0 AND NOT attisdropped
                AND attname <> 'password_hash');
END
$$;

-- ---------------------------------------------------------------------------
-- What never changes.

CREATE FUNCTION kt_item_versions_immutable() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        NULL;
    ELSIF (OLD.item_id, OLD.version, OLD.province_id, OLD.school_id, OLD.kind, OLD.title,
           OLD.content, OLD.scoring, OLD.tags, OLD.qti_xml, OLD.created_by, OLD.created_at)
          IS NOT DISTINCT FROM
          (NEW.item_id, NEW.version, NEW.province_id, NEW.school_id, NEW.kind, NEW.title,
           NEW.content, NEW.scoring, NEW.tags, NEW.qti_xml, NEW.created_by, NEW.created_at)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'phiên bản % của câu hỏi % không sửa hay xoá được; hãy tạo phiên bản mới',
        OLD.version, OLD.item_id USING ERRCODE = 'KT412';
END
$$;
CREATE TRIGGER item_versions_immutable BEFORE UPDATE OR DELETE ON item_versions
    FOR EACH ROW EXECUTE FUNCTION kt_item_versions_immutable();

CREATE FUNCTION kt_published_test_immutable() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_test bigint;
BEGIN
    IF TG_TABLE_NAME = 'tests' THEN
        v_test := OLD.id;
        IF OLD.status <> 'published' AND TG_OP = 'DELETE' THEN
            RETURN OLD;
        ELSIF OLD.status <> 'published' THEN
            RETURN NEW;
        END IF;
        IF TG_OP = 'UPDATE' AND
            (OLD.school_id, OLD.province_id, OLD.title, OLD.subject, OLD.grade, OLD.kind,
             OLD.duration_seconds, OLD.forms, OLD.blueprint, OLD.status, OLD.seed,
             OLD.total_points, OLD.published_by, OLD.published_at, OLD.navigation_mode,
             OLD.source_qti_test_id)
            IS NOT DISTINCT FROM
            (NEW.school_id, NEW.province_id, NEW.title, NEW.subject, NEW.grade, NEW.kind,
             NEW.duration_seconds, NEW.forms, NEW.blueprint, NEW.status, NEW.seed,
             NEW.total_points, NEW.published_by, NEW.published_at, NEW.navigation_mode,
             NEW.source_qti_test_id)
        THEN
            RETURN NEW;
        END IF;
    ELSIF TG_TABLE_NAME = 'test_forms' THEN
        v_test := OLD.test_id;
        IF TG_OP = 'UPDATE' AND
            (OLD.test_id, OLD.school_id, OLD.form_index, OLD.code, OLD.seed, OLD.payload)
            IS NOT DISTINCT FROM
            (NEW.test_id, NEW.school_id, NEW.form_index, NEW.code, NEW.seed, NEW.payload)
        THEN
            RETURN NEW;
        END IF;
    ELSE -- test_items: a regrade moves scoring_version, nothing else moves
        v_test := OLD.test_id;
        IF TG_OP = 'UPDATE' AND
            (OLD.test_id, OLD.item_ref, OLD.school_id, OLD.item_id, OLD.version, OLD.cell,
             OLD.part, OLD.points)
            IS NOT DISTINCT FROM
            (NEW.test_id, NEW.item_ref, NEW.school_id, NEW.item_id, NEW.version, NEW.cell,
             NEW.part, NEW.points)
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'đề kiểm tra % đã phát hành nên không sửa hay xoá được', v_test
        USING ERRCODE = 'KT412';
END
$$;
CREATE TRIGGER tests_immutable BEFORE UPDATE OR DELETE ON tests
    FOR EACH ROW EXECUTE FUNCTION kt_published_test_immutable();
CREATE TRIGGER test_forms_immutable BEFORE UPDATE OR DELETE ON test_forms
    FOR EACH ROW EXECUTE FUNCTION kt_published_test_immutable();
CREATE TRIGGER test_items_immutable BEFORE UPDATE OR DELETE ON test_items
    FOR EACH ROW EXECUTE FUNCTION kt_published_test_immutable();

-- ---------------------------------------------------------------------------
-- Locked semesters.

-- Whether a semester (0: the whole year, locked with both) is locked, seen
-- past the caller's tenant so that no setting can hide a lock.
CREATE FUNCTION kt_term_locked(p_school bigint, p_year text, p_semester smallint)
    RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
    SELECT count(*) >= CASE WHEN p_semester = 0 THEN 2 ELSE 1 END
      FROM record_terms t
     WHERE t.school_id = p_school AND t.school_year = p_year
       AND (p_semester = 0 OR t.semester = p_semester)
    $$;
REVOKE ALL ON FUNCTION kt_term_locked(bigint, text, smallint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kt_term_locked(bigint, text, smallint) TO kiemtra_app;

CREATE FUNCTION kt_locked_term_refuses() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_locked boolean := false;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        v_locked := kt_term_locked(OLD.school_id, OLD.school_year, OLD.semester);
    END IF;
    IF TG_OP <> 'DELETE' AND NOT v_locked THEN
        v_locked := kt_term_locked(NEW.school_id, NEW.school_year, NEW.semester);
    END IF;
    -- A result recomputed to the same status and value is no change.
    IF v_locked AND TG_TABLE_NAME = 'record_results' AND TG_OP = 'UPDATE' THEN
        v_locked := (OLD.student_id, OLD.subject, OLD.school_year, OLD.semester, OLD.status,
                     OLD.value)
                    IS DISTINCT FROM
                    (NEW.student_id, NEW.subject, NEW.school_year, NEW.semester, NEW.status,
                     NEW.value);
    END IF;
    IF v_locked THEN
        RAISE EXCEPTION 'học kì này đã khoá sổ; không thay đổi điểm được nữa'
            USING ERRCODE = 'KT423';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER record_marks_locked BEFORE INSERT OR UPDATE OR DELETE ON record_marks
    FOR EACH ROW EXECUTE FUNCTION kt_locked_term_refuses();
CREATE TRIGGER record_results_locked BEFORE UPDATE OR DELETE ON record_results
    FOR EACH ROW EXECUTE FUNCTION kt_locked_term_refuses();

REVOKE UPDATE ON record_terms FROM kiemtra_app;

-- ---------------------------------------------------------------------------
-- The outbox: claims with a lease instead of a lock that ended with the
-- transaction that read the due rows.

ALTER TABLE csdl_outbox ADD COLUMN claimed_by text, ADD COLUMN claimed_until timestamptz;

DROP FUNCTION kt_outbox_due(integer);
DROP FUNCTION kt_outbox_result(text, integer, boolean, text);

-- Claims the next due record for p_sender for p_lease seconds; no row when
-- nothing is due or every due record is claimed.
CREATE FUNCTION kt_outbox_claim(p_sender text, p_lease integer)
    RETURNS TABLE (record_id text, version integer, event text, payload jsonb, updated_at text)
    LANGUAGE sql SECURITY DEFINER SET search_path = public
    AS $$
    UPDATE csdl_outbox o
       SET claimed_by = p_sender, claimed_until = now() + make_interval(secs => p_lease)
      FROM (SELECT c.record_id FROM csdl_outbox c
             WHERE c.accepted_version < c.version AND c.next_attempt_at <= now()
               AND (c.claimed_until IS NULL OR c.claimed_until <= now())
             ORDER BY c.next_attempt_at LIMIT 1
               FOR UPDATE SKIP LOCKED) due
     WHERE o.record_id = due.record_id
    RETURNING o.record_id, o.version, o.event, o.payload,
              to_char(o.updated_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD"T"HH24:MI:SS')
    $$;

-- The receiver's answer for the version p_sender claimed and sent: accepted
-- (the accepted version only grows) or failed (exponential backoff,
-- capped); the claim ends. Ignored when the claim has passed to another
-- sender, which sends again and records the answer itself.
CREATE FUNCTION kt_outbox_ack(p_sender text, p_record text, p_version integer, p_ok boolean,
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
        claimed_by = NULL, claimed_until = NULL,
        updated_at = now()
     WHERE record_id = p_record AND claimed_by = p_sender
    $$;

REVOKE ALL ON FUNCTION kt_outbox_claim(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION kt_outbox_ack(text, text, integer, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kt_outbox_claim(text, integer) TO kiemtra_app;
GRANT EXECUTE ON FUNCTION kt_outbox_ack(text, text, integer, boolean, text) TO kiemtra_app;
