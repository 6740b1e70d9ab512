-- 0019: linear tests are delivered one item at a time.
--
-- The reach of an attempt of a linear test is the furthest position with a
-- saved response (an answer, or null for an item skipped) plus one: the
-- student sees the items up to it and nothing after (the gateway cuts the
-- form's payload, the asset route refuses the files of later items). A save
-- may go to the item at the reach, which moves it one further, and never
-- beyond, so the items after it cannot be opened by guessing their refs.
-- Before the furthest saved position is refused as before.

CREATE FUNCTION kt_linear_reach(p_attempt bigint) RETURNS integer
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(max(r.position), 0) + 1 FROM responses r WHERE r.attempt_id = p_attempt $$;

-- Runs only for saves of linear tests (WHEN position IS NOT NULL, 0013);
-- rows the same statement wrote before are seen.
CREATE OR REPLACE FUNCTION kt_responses_linear() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_reach integer := kt_linear_reach(NEW.attempt_id);
BEGIN
    IF NEW.position < v_reach - 1 THEN
        RAISE EXCEPTION 'linear navigation: item % is before the furthest item answered',
            NEW.item_ref USING ERRCODE = 'KT409';
    END IF;
    IF NEW.position > v_reach THEN
        RAISE EXCEPTION 'linear navigation: item % is not reached yet', NEW.item_ref
            USING ERRCODE = 'KT409';
    END IF;
    RETURN NEW;
END
$$;
