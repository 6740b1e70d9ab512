-- 0010: delivery of imported QTI assessmentTests.
--
-- A test published from qti_tests remembers its source and its navigation
-- mode. In a linear test a student cannot go back: each saved response
-- records the item's position in the student's form, and a save to an item
-- before the furthest one saved so far is refused (SQLSTATE KT409, which the
-- gateway answers with 409 linear_navigation). attempts.linear is copied
-- from the test when the attempt starts, so saves of other tests pay one
-- primary-key lookup and nothing else.

ALTER TABLE tests ADD COLUMN source_qti_test_id bigint REFERENCES qti_tests(id);
ALTER TABLE tests ADD COLUMN navigation_mode text NOT NULL DEFAULT 'nonlinear'
    CHECK (navigation_mode IN ('linear', 'nonlinear'));
ALTER TABLE attempts ADD COLUMN linear boolean NOT NULL DEFAULT false;
ALTER TABLE responses ADD COLUMN position integer; -- 1-based place in the form (linear tests)

CREATE FUNCTION kt_attempts_linear() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.linear := EXISTS (SELECT 1 FROM test_forms f JOIN tests t ON t.id = f.test_id
                           WHERE f.id = NEW.form_id AND t.navigation_mode = 'linear');
    RETURN NEW;
END
$$;
CREATE TRIGGER attempts_linear BEFORE INSERT ON attempts
    FOR EACH ROW EXECUTE FUNCTION kt_attempts_linear();

-- Row triggers see the rows the same statement wrote before, so saves of
-- one batch are checked against each other too.
CREATE FUNCTION kt_responses_linear() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_form bigint;
    v_pos  integer;
BEGIN
    SELECT a.form_id INTO v_form FROM attempts a WHERE a.id = NEW.attempt_id AND a.linear;
    IF NOT FOUND THEN
        RETURN NEW;
    END IF;
    SELECT e.ord INTO v_pos
      FROM test_forms f, jsonb_array_elements(f.payload->'items') WITH ORDINALITY AS e(it, ord)
     WHERE f.id = v_form AND e.it->>'ref' = NEW.item_ref;
    NEW.position := v_pos;
    IF v_pos IS NOT NULL AND EXISTS (SELECT 1 FROM responses r
                                      WHERE r.attempt_id = NEW.attempt_id AND r.position > v_pos)
    THEN
        RAISE EXCEPTION 'linear navigation: item % is before the furthest item answered',
            NEW.item_ref USING ERRCODE = 'KT409';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER responses_linear BEFORE INSERT ON responses
    FOR EACH ROW EXECUTE FUNCTION kt_responses_linear();
