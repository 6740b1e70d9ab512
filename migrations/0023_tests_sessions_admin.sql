-- 0023: managing tests and sessions from the staff screens.
--
-- schools.timezone: the school's IANA zone (a name PostgreSQL knows, from
--   pg_timezone_names); times are stored as timestamptz and shown in it.
-- tests.archived_at: an archived test is hidden from the default list; it
--   keeps its forms, sessions and results. A published test is still
--   immutable (0018): archiving touches no column the trigger guards.
-- sessions.cancelled_at: a cancelled session is not offered to students
--   and no attempt starts in it; attempts already started are kept as they
--   are (they can still be saved and submitted).
-- Deleting a test: a test that was never taken (no attempt in any of its
--   sessions) may be deleted with its forms, items and sessions, in one
--   statement (DELETE FROM tests: the children go by ON DELETE CASCADE).
--   The triggers of 0018 allow exactly that and nothing else: a published
--   test only when no attempt exists, its forms and items only when their
--   test is gone (that is, deleted in the same statement). attempts keep
--   their foreign keys without cascade, so an attempt also stops it.

-- ---------------------------------------------------------------------------
-- The school's time zone.

ALTER TABLE schools ADD COLUMN timezone text NOT NULL DEFAULT 'Asia/Ho_Chi_Minh';

CREATE FUNCTION kt_school_timezone_check() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = NEW.timezone) THEN
        RAISE EXCEPTION 'múi giờ "%" không có trong danh sách múi giờ (ví dụ Asia/Ho_Chi_Minh)',
            NEW.timezone USING ERRCODE = '22023';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER schools_timezone_check BEFORE INSERT OR UPDATE OF timezone ON schools
    FOR EACH ROW EXECUTE FUNCTION kt_school_timezone_check();

-- ---------------------------------------------------------------------------
-- Archived tests, cancelled sessions.

ALTER TABLE tests ADD COLUMN archived_at timestamptz,
                  ADD COLUMN archived_by bigint REFERENCES users(id);
CREATE INDEX tests_school_list_idx ON tests (school_id, id DESC);

ALTER TABLE sessions ADD COLUMN cancelled_at timestamptz,
                     ADD COLUMN cancelled_by bigint REFERENCES users(id),
                     ADD COLUMN cancel_reason text CHECK (char_length(cancel_reason) <= 500),
                     ADD COLUMN updated_at timestamptz;
CREATE INDEX sessions_test_idx ON sessions (test_id);

-- ---------------------------------------------------------------------------
-- Deleting a test that was never taken.

ALTER TABLE test_items DROP CONSTRAINT test_items_test_id_fkey,
    ADD CONSTRAINT test_items_test_id_fkey FOREIGN KEY (test_id) REFERENCES tests(id)
        ON DELETE CASCADE;
ALTER TABLE test_forms DROP CONSTRAINT test_forms_test_id_fkey,
    ADD CONSTRAINT test_forms_test_id_fkey FOREIGN KEY (test_id) REFERENCES tests(id)
        ON DELETE CASCADE;
ALTER TABLE sessions DROP CONSTRAINT sessions_test_id_fkey,
    ADD CONSTRAINT sessions_test_id_fkey FOREIGN KEY (test_id) REFERENCES tests(id)
        ON DELETE CASCADE;
ALTER TABLE session_classes DROP CONSTRAINT session_classes_session_id_fkey,
    ADD CONSTRAINT session_classes_session_id_fkey FOREIGN KEY (session_id)
        REFERENCES sessions(id) ON DELETE CASCADE;

-- Whether any student ever started the test, seen past the caller's tenant.
CREATE FUNCTION kt_test_taken(p_test bigint) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
    SELECT EXISTS (SELECT 1 FROM attempts a JOIN sessions s ON s.id = a.session_id
                    WHERE s.test_id = p_test)
    $$;

-- Whether the test row still exists, seen past the caller's tenant: during
-- the cascade of a test's deletion it is already gone.
CREATE FUNCTION kt_test_exists(p_test bigint) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT EXISTS (SELECT 1 FROM tests WHERE id = p_test) $$;

REVOKE ALL ON FUNCTION kt_test_taken(bigint), kt_test_exists(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kt_test_taken(bigint), kt_test_exists(bigint) TO kiemtra_app;

-- 0018's trigger with the two deletions above added; everything else as before.
CREATE OR REPLACE FUNCTION kt_published_test_immutable() RETURNS trigger
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
        -- A published test nobody has taken may be deleted (with its
        -- forms, items and sessions by cascade).
        IF TG_OP = 'DELETE' AND NOT kt_test_taken(OLD.id) THEN
            RETURN OLD;
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
        -- Only as part of its test's deletion: the test row is gone already.
        IF TG_OP = 'DELETE' AND NOT kt_test_exists(OLD.test_id) THEN
            RETURN OLD;
        END IF;
        IF TG_OP = 'UPDATE' AND
            (OLD.test_id, OLD.school_id, OLD.form_index, OLD.code, OLD.seed, OLD.payload)
            IS NOT DISTINCT FROM
            (NEW.test_id, NEW.school_id, NEW.form_index, NEW.code, NEW.seed, NEW.payload)
        THEN
            RETURN NEW;
        END IF;
    ELSE -- test_items: a regrade moves scoring_version, nothing else moves
        v_test := OLD.test_id;
        IF TG_OP = 'DELETE' AND NOT kt_test_exists(OLD.test_id) THEN
            RETURN OLD;
        END IF;
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

-- The application deletes whole tests (the cascade removes the rest) and
-- removes classes from a session.
GRANT DELETE ON tests, session_classes TO kiemtra_app;
