-- 0035: exam login codes, the login storm's answer; the generation of a
-- test's scoring rows, which lets the gateway cache them; a minute before the
-- expiry job scores an unscored attempt again (docs/BENCHMARKS.md, "Login
-- storm and submit storm").
--
-- A teacher issues each student of a session a login code, printed on the
-- exam slip: 80 random bits, typed as four groups of four letters/digits.
-- Only a keyed BLAKE2b hash of it is stored (the key is derived in the
-- gateway from KIEMTRA_SECRET_KEY_FILE), so neither a copy of the database
-- nor its backups can be used to log in. A code
--   * logs in only its own student (the username must match),
--   * only from one hour before the session opens until it closes (or is
--     cancelled); the
--     token it gives expires at the latest one hour after the close,
--   * is throttled like a password (kt_login_begin: per account and address,
--     failures per address),
--   * is written to audit_log at every use, accepted or refused,
--   * is revoked by the teacher, and reissuing a student's code revokes the
--     earlier one (at most one live code per student and session).
-- Checking a code is one hash in C and one statement: no argon2id.

CREATE TABLE exam_login_codes (
    id          bigserial PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES schools(id),
    session_id  bigint NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash   bytea NOT NULL UNIQUE,      -- keyed BLAKE2b-256 of the normalised code
    issued_by   bigint REFERENCES users(id),
    issued_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    uses        integer NOT NULL DEFAULT 0,
    last_used_at timestamptz
);
CREATE UNIQUE INDEX exam_login_codes_live_idx ON exam_login_codes (session_id, user_id)
    WHERE revoked_at IS NULL;
CREATE INDEX exam_login_codes_user_idx ON exam_login_codes (user_id);

-- Staff of the school read and write their school's codes (handlers check
-- the role and teaching assignments); a student sees none.
ALTER TABLE exam_login_codes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON exam_login_codes
    USING ((school_id = kt_school() OR kt_admin_sees(school_id)) AND NOT kt_is_student())
    WITH CHECK (school_id = kt_school() AND NOT kt_is_student());
GRANT SELECT, INSERT, UPDATE ON exam_login_codes TO kiemtra_app;
GRANT USAGE ON SEQUENCE exam_login_codes_id_seq TO kiemtra_app;

-- One exam login: the try counted (kt_login_begin), the code checked, the
-- outcome recorded (kt_login_finish: a failure counts against the address,
-- a success creates the session) and audited, in one statement. Returns
-- retry_after > 0 with its scope when the try must wait; otherwise reason
-- NULL and the user (as kt_login_finish returns it) on success, or the
-- reason of the refusal: 'wrong' (no such code for this username),
-- 'revoked', 'not_yet', 'closed'.
CREATE FUNCTION kt_exam_login(p_username text, p_addr text, p_code_hash bytea,
                              p_token_hash bytea, p_ttl integer, p_free integer,
                              p_delay integer, p_max_delay integer, p_max_addr integer,
                              p_window integer)
    RETURNS TABLE (retry_after integer, scope text, reason text, login jsonb)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    b record;
    c record;
    why text;
    j jsonb;
    until timestamptz;
BEGIN
    SELECT * INTO b FROM kt_login_begin(p_username, p_addr, p_free, p_delay, p_max_delay,
                                        p_max_addr, p_window);
    IF b.retry_after > 0 THEN
        RETURN QUERY SELECT b.retry_after, b.scope, NULL::text, NULL::jsonb;
        RETURN;
    END IF;
    SELECT e.id, e.school_id, e.session_id, e.user_id, e.revoked_at, s.opens_at, s.closes_at,
           s.cancelled_at
      INTO c
      FROM exam_login_codes e JOIN sessions s ON s.id = e.session_id
      JOIN users u ON u.id = e.user_id
     WHERE e.code_hash = p_code_hash AND u.username = p_username AND NOT u.disabled
       AND u.school_id = e.school_id AND s.school_id = e.school_id;
    why := CASE WHEN c.id IS NULL THEN 'wrong'
                WHEN c.revoked_at IS NOT NULL THEN 'revoked'
                WHEN now() < c.opens_at - interval '1 hour' THEN 'not_yet'
                WHEN now() >= c.closes_at OR c.cancelled_at IS NOT NULL THEN 'closed' END;
    IF why IS NULL THEN
        j := kt_login_finish(p_username, p_addr, c.user_id, true, p_token_hash, p_ttl, p_window);
    END IF;
    IF why IS NOT NULL OR j IS NULL THEN
        PERFORM kt_login_finish(p_username, p_addr, NULL, false, p_token_hash, p_ttl, p_window);
        -- The refusal is audited in the account's school (unknown names:
        -- without a school, as nothing identifies one).
        INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)
        SELECT u.school_id, NULL, 'login.exam_code_refused', 'user', u.id::text,
               jsonb_build_object('reason', coalesce(why, 'wrong'), 'addr', p_addr,
                                  'session_id', c.session_id, 'code_id', c.id)
          FROM users u WHERE u.username = p_username;
        RETURN QUERY SELECT 0, NULL::text, coalesce(why, 'wrong'), NULL::jsonb;
        RETURN;
    END IF;
    until := least(now() + make_interval(secs => p_ttl), c.closes_at + interval '1 hour');
    UPDATE auth_sessions SET expires_at = until WHERE token_hash = p_token_hash;
    UPDATE exam_login_codes SET uses = uses + 1, last_used_at = now() WHERE id = c.id;
    INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)
    VALUES (c.school_id, c.user_id, 'login.exam_code', 'user', c.user_id::text,
            jsonb_build_object('session_id', c.session_id, 'code_id', c.id, 'addr', p_addr));
    j := j || jsonb_build_object('exam_session_id', c.session_id, 'expires_at',
             to_char(until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
    RETURN QUERY SELECT 0, NULL::text, NULL::text, j;
END
$$;

REVOKE ALL ON FUNCTION kt_exam_login(text, text, bytea, bytea, integer, integer, integer,
                                     integer, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kt_exam_login(text, text, bytea, bytea, integer, integer, integer,
                                        integer, integer, integer) TO kiemtra_app;

-- ---------------------------------------------------------------------------
-- Scoring rows cached by the gateway (the submit storm).
--
-- What scores an attempt of a published form (its items' kinds, scoring,
-- QTI, points, stated maximum) changes only by a regrade (a test item's
-- scoring_version) or a stated maximum (item_max_scores). Each gateway
-- worker caches a form's scoring rows under the test's generation below,
-- which those two changes bump in their own transaction; a submit reads
-- the generation with the student's answers and reloads the rows when it
-- moved. A new or republished test has new forms (new ids), never a hit.
-- Nothing secret is here (a test id and a counter), so no tenant policy.
CREATE TABLE test_scoring_gen (
    test_id  bigint PRIMARY KEY REFERENCES tests(id) ON DELETE CASCADE,
    gen      bigint NOT NULL
);
GRANT SELECT ON test_scoring_gen TO kiemtra_app;

CREATE FUNCTION kt_scoring_gen_bump() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    IF TG_TABLE_NAME = 'test_items' THEN
        INSERT INTO test_scoring_gen AS g (test_id, gen) VALUES (NEW.test_id, 1)
        ON CONFLICT (test_id) DO UPDATE SET gen = g.gen + 1;
    ELSE -- item_max_scores: every test holding the item
        INSERT INTO test_scoring_gen AS g (test_id, gen)
        SELECT DISTINCT ti.test_id, 1 FROM test_items ti
         WHERE ti.item_id = CASE WHEN TG_OP = 'DELETE' THEN OLD.item_id ELSE NEW.item_id END
        ON CONFLICT (test_id) DO UPDATE SET gen = g.gen + 1;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION kt_scoring_gen_bump() FROM PUBLIC;
CREATE TRIGGER test_items_scoring_gen AFTER UPDATE OF scoring_version ON test_items
    FOR EACH ROW WHEN (OLD.scoring_version IS DISTINCT FROM NEW.scoring_version)
    EXECUTE FUNCTION kt_scoring_gen_bump();
CREATE TRIGGER item_max_scores_scoring_gen AFTER INSERT OR UPDATE OR DELETE ON item_max_scores
    FOR EACH ROW EXECUTE FUNCTION kt_scoring_gen_bump();

-- The expiry job scores again an attempt submitted but left unscored (its
-- gateway stopped in between). After 5 seconds, as before, a submit storm
-- whose scoring queue was longer than that had most of its attempts scored
-- twice (23,192 score stores for 10,000 submits, docs/BENCHMARKS.md), which
-- lengthened the queue further. A minute is past any queue measured here
-- and still soon for a gateway that died.
CREATE OR REPLACE FUNCTION kt_unscored_attempts(p_limit integer)
    RETURNS TABLE (attempt_id bigint, school_id bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
    SELECT a.id, a.school_id FROM attempts a
     WHERE a.status = 'submitted' AND a.scored_at IS NULL
       AND a.submitted_at < now() - interval '60 seconds'
     ORDER BY a.submitted_at LIMIT p_limit
    $$;
