-- 0029: a generation per class and school year for recomputing records.
--
-- The gateway recomputes a class in three steps: it reads the class's
-- input (records_input), computes the results in C, then stores them with
-- the class's outbox records (records_store, records_outbox). The reading
-- and the storing are two transactions, so two edits of one class could
-- interleave and the one that read first store last, dropping the other's
-- mark. Now:
--   * every write of an input of the computation bumps the generation of
--     the classes it feeds: a mark (record_marks) every class of its
--     student and the mark's own class, for the mark's school year; a
--     class's members or grade, that class; a subject configuration, the
--     classes of its grade;
--   * records_input reads the generation with the input, in one statement
--     (one snapshot);
--   * the store takes the generation's row lock through
--     kt_record_gen_hold() and writes only when the generation is still
--     the one read; otherwise nothing is written and the gateway reads and
--     computes the class again.
-- A write that bumps waits for a store holding the row, and a store waits
-- for an uncommitted bump and then sees the new generation, so a result
-- computed from older marks never lands after one computed from newer
-- marks. The bump of record_marks is a statement trigger: it takes the
-- generation rows (in class order) after the statement has taken its mark
-- rows, as a store takes its generation row before its result rows, so the
-- two never wait for each other in a cycle.

CREATE TABLE record_generations (
    class_id    bigint NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    school_year text NOT NULL,
    school_id   bigint NOT NULL REFERENCES schools(id),
    gen         bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (class_id, school_year)
);
ALTER TABLE record_generations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON record_generations
    USING (school_id = kt_school() OR kt_admin_sees(school_id));
-- The application reads generations; only the functions below write them.
GRANT SELECT ON record_generations TO kiemtra_app;

-- Bumps the generations of the given (class, school year) pairs, creating
-- missing rows, in class order.
CREATE FUNCTION kt_record_gen_bump(p_class bigint[], p_year text[]) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public
    AS $$
    INSERT INTO record_generations AS g (class_id, school_year, school_id, gen)
    SELECT k.class_id, k.school_year, c.school_id, 1
      FROM (SELECT DISTINCT x.class_id, x.school_year
              FROM unnest(p_class, p_year) AS x(class_id, school_year)
             WHERE x.class_id IS NOT NULL AND x.school_year IS NOT NULL) k
      JOIN classes c ON c.id = k.class_id
     ORDER BY k.class_id, k.school_year
    ON CONFLICT (class_id, school_year) DO UPDATE SET gen = g.gen + 1
    $$;
REVOKE ALL ON FUNCTION kt_record_gen_bump(bigint[], text[]) FROM PUBLIC;

-- Statement triggers of record_marks (one per event: a trigger with
-- transition tables has one event). The transition tables hold the rows
-- the statement added, changed (old and new) or removed.
CREATE FUNCTION kt_record_marks_gen() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    v_class bigint[];
    v_year text[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(k.class_id), array_agg(k.school_year) INTO v_class, v_year
          FROM (SELECT r.class_id, r.school_year FROM kt_new r
                UNION SELECT cm.class_id, r.school_year
                        FROM kt_new r JOIN class_members cm ON cm.user_id = r.student_id) k;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT array_agg(k.class_id), array_agg(k.school_year) INTO v_class, v_year
          FROM (WITH r AS (SELECT student_id, class_id, school_year FROM kt_new
                           UNION SELECT student_id, class_id, school_year FROM kt_old)
                SELECT r.class_id, r.school_year FROM r
                UNION SELECT cm.class_id, r.school_year
                        FROM r JOIN class_members cm ON cm.user_id = r.student_id) k;
    ELSE
        SELECT array_agg(k.class_id), array_agg(k.school_year) INTO v_class, v_year
          FROM (SELECT r.class_id, r.school_year FROM kt_old r
                UNION SELECT cm.class_id, r.school_year
                        FROM kt_old r JOIN class_members cm ON cm.user_id = r.student_id) k;
    END IF;
    IF v_class IS NOT NULL THEN
        PERFORM kt_record_gen_bump(v_class, v_year);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER record_marks_gen_insert AFTER INSERT ON record_marks
    REFERENCING NEW TABLE AS kt_new
    FOR EACH STATEMENT EXECUTE FUNCTION kt_record_marks_gen();
CREATE TRIGGER record_marks_gen_update AFTER UPDATE ON record_marks
    REFERENCING OLD TABLE AS kt_old NEW TABLE AS kt_new
    FOR EACH STATEMENT EXECUTE FUNCTION kt_record_marks_gen();
CREATE TRIGGER record_marks_gen_delete AFTER DELETE ON record_marks
    REFERENCING OLD TABLE AS kt_old
    FOR EACH STATEMENT EXECUTE FUNCTION kt_record_marks_gen();

-- The other inputs: a class's members and grade, the subject configurations.
CREATE FUNCTION kt_record_inputs_gen() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    IF TG_TABLE_NAME = 'class_members' THEN
        UPDATE record_generations SET gen = gen + 1
         WHERE class_id = CASE WHEN TG_OP = 'DELETE' THEN OLD.class_id ELSE NEW.class_id END;
    ELSIF TG_TABLE_NAME = 'classes' THEN
        UPDATE record_generations SET gen = gen + 1 WHERE class_id = NEW.id;
    ELSE -- subject_configs: the classes of the grade, of the school or of every school
        UPDATE record_generations g SET gen = g.gen + 1
          FROM classes c
         WHERE c.id = g.class_id
           AND ((TG_OP <> 'INSERT' AND c.grade = OLD.grade
                 AND (OLD.school_id IS NULL OR c.school_id = OLD.school_id))
                OR (TG_OP <> 'DELETE' AND c.grade = NEW.grade
                    AND (NEW.school_id IS NULL OR c.school_id = NEW.school_id)));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER class_members_gen AFTER INSERT OR DELETE ON class_members
    FOR EACH ROW EXECUTE FUNCTION kt_record_inputs_gen();
CREATE TRIGGER classes_gen AFTER UPDATE OF grade ON classes
    FOR EACH ROW WHEN (OLD.grade IS DISTINCT FROM NEW.grade)
    EXECUTE FUNCTION kt_record_inputs_gen();
CREATE TRIGGER subject_configs_gen AFTER INSERT OR UPDATE OR DELETE ON subject_configs
    FOR EACH ROW EXECUTE FUNCTION kt_record_inputs_gen();

-- The store's guard: takes the row lock of the class's generation for the
-- rest of the transaction (creating the row at 0 when missing) and tells
-- whether the generation is still p_gen, the one read with the input.
-- A write that bumps it waits for this transaction; a bump not committed
-- yet makes this wait, then answer false. False also for a class outside
-- the caller's school.
CREATE FUNCTION kt_record_gen_hold(p_class bigint, p_year text, p_gen bigint) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    v_school bigint;
    v_gen bigint;
BEGIN
    SELECT c.school_id INTO v_school FROM classes c
     WHERE c.id = p_class AND (c.school_id = kt_school() OR kt_admin_sees(c.school_id));
    IF NOT FOUND OR p_year IS NULL OR p_gen IS NULL THEN
        RETURN false;
    END IF;
    INSERT INTO record_generations (class_id, school_year, school_id)
    VALUES (p_class, p_year, v_school) ON CONFLICT DO NOTHING;
    SELECT g.gen INTO v_gen FROM record_generations g
     WHERE g.class_id = p_class AND g.school_year = p_year FOR UPDATE;
    RETURN v_gen = p_gen;
END
$$;
REVOKE ALL ON FUNCTION kt_record_gen_hold(bigint, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kt_record_gen_hold(bigint, text, bigint) TO kiemtra_app;
