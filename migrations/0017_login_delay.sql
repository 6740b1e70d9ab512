-- 0017: login throttling that slows guessing without locking anyone out.
--
-- Before, five wrong passwords locked an account for the whole window, from
-- anywhere, even for the right password, and concurrent guesses were all
-- checked before the first failure was counted. Now:
--   * tries are counted per (account, client address): a classmate guessing
--     from another computer never delays the owner on their own computer;
--   * a try is counted (reserved) in the same statement that decides whether
--     it may be checked, before the password is verified, so concurrent
--     guesses cannot exceed the free tries; a success deletes the count;
--   * after p_free tries of a pair, each further try waits a delay that
--     doubles from p_delay up to p_max_delay seconds (429 + Retry-After);
--   * failures per address (any account) are capped at p_max_addr per
--     window: high enough for a lab behind one NAT, bounding a sprayer;
--   * a teacher of the school can clear a student's counts, a school admin
--     anyone's of the school (kt_login_unlock, audited by the caller).

DROP FUNCTION kt_login_begin(text, text, integer, integer, integer);
DROP TABLE login_throttle;

-- One row per (username, address) that tried since its last success.
CREATE TABLE login_tries (
    username    text NOT NULL,
    addr        text NOT NULL,
    tries       integer NOT NULL,     -- counted tries, the current one included
    last_at     timestamptz NOT NULL, -- the last counted try
    not_before  timestamptz NOT NULL, -- no try is checked before this
    PRIMARY KEY (username, addr)
);
CREATE INDEX login_tries_last_idx ON login_tries (last_at);

CREATE TABLE login_addr_failures (
    addr         text PRIMARY KEY,
    failures     integer NOT NULL,
    window_start timestamptz NOT NULL
);

-- No policies and no grants: reached only through the functions below.
ALTER TABLE login_tries ENABLE ROW LEVEL SECURITY;
ALTER TABLE login_addr_failures ENABLE ROW LEVEL SECURITY;

-- The wait after the n-th counted try of a pair ('-infinity': none).
CREATE FUNCTION kt_login_wait(n integer, p_free integer, p_delay integer, p_max_delay integer)
    RETURNS timestamptz
    LANGUAGE sql STABLE
    AS $$
        SELECT CASE WHEN n < p_free THEN '-infinity'::timestamptz
                    ELSE now() + make_interval(secs => least(p_max_delay::float8,
                                  p_delay * power(2::float8, least(n - p_free, 30))))
               END
    $$;

-- Decides whether this try may be checked and counts it, then looks the
-- user up, in one round trip. retry_after > 0 (and scope 'address' or
-- 'account') when it must wait; otherwise the user, if any.
CREATE FUNCTION kt_login_begin(p_username text, p_addr text, p_free integer, p_delay integer,
                               p_max_delay integer, p_max_addr integer, p_window integer)
    RETURNS TABLE (retry_after integer, scope text, user_id bigint, password_hash text,
                   disabled boolean)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    win interval := make_interval(secs => p_window);
    n integer;
    wait integer;
BEGIN
    SELECT ceil(extract(epoch FROM a.window_start + win - now()))::integer INTO wait
      FROM login_addr_failures a
     WHERE a.addr = p_addr AND a.failures >= p_max_addr AND a.window_start + win > now();
    IF wait IS NOT NULL THEN
        RETURN QUERY SELECT greatest(wait, 1), 'address'::text, NULL::bigint, NULL::text,
                            NULL::boolean;
        RETURN;
    END IF;
    -- The row lock of ON CONFLICT serialises concurrent tries of a pair; a
    -- try that must wait changes nothing and returns no row.
    INSERT INTO login_tries AS t (username, addr, tries, last_at, not_before)
         VALUES (p_username, p_addr, 1, now(), kt_login_wait(1, p_free, p_delay, p_max_delay))
    ON CONFLICT (username, addr) DO UPDATE
         SET tries = CASE WHEN t.last_at + win <= now() THEN 1 ELSE t.tries + 1 END,
             last_at = now(),
             not_before = kt_login_wait(CASE WHEN t.last_at + win <= now() THEN 1
                                             ELSE t.tries + 1 END, p_free, p_delay, p_max_delay)
       WHERE t.not_before <= now()
    RETURNING t.tries INTO n;
    IF n IS NULL THEN
        SELECT greatest(1, ceil(extract(epoch FROM t.not_before - now())))::integer INTO wait
          FROM login_tries t WHERE t.username = p_username AND t.addr = p_addr;
        RETURN QUERY SELECT wait, 'account'::text, NULL::bigint, NULL::text, NULL::boolean;
        RETURN;
    END IF;
    RETURN QUERY SELECT 0, NULL::text, u.id, u.password_hash, u.disabled
                   FROM users u WHERE u.username = p_username
                  UNION ALL
                 SELECT 0, NULL::text, NULL::bigint, NULL::text, NULL::boolean
                  WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.username = p_username);
END
$$;

-- Records the outcome of a password check (the try itself was counted by
-- kt_login_begin). A failure counts against the address; a success clears
-- the pair's count and creates the session. Returns the user as JSON, NULL
-- on failure.
CREATE OR REPLACE FUNCTION kt_login_finish(p_username text, p_addr text, p_user bigint,
                                           p_ok boolean, p_token_hash bytea, p_ttl integer,
                                           p_window integer)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    u users%ROWTYPE;
    win interval := make_interval(secs => p_window);
BEGIN
    IF p_ok THEN
        SELECT * INTO u FROM users WHERE id = p_user AND NOT disabled;
    END IF;
    IF u.id IS NULL THEN
        INSERT INTO login_addr_failures AS a (addr, failures, window_start)
             VALUES (p_addr, 1, now())
        ON CONFLICT (addr) DO UPDATE
             SET failures = CASE WHEN a.window_start + win > now() THEN a.failures + 1 ELSE 1 END,
                 window_start = CASE WHEN a.window_start + win > now() THEN a.window_start
                                     ELSE now() END;
        IF random() < 0.01 THEN -- forget quiet pairs and addresses now and then
            DELETE FROM login_tries WHERE last_at + win < now() AND not_before < now();
            DELETE FROM login_addr_failures WHERE window_start + win < now();
        END IF;
        RETURN NULL;
    END IF;
    DELETE FROM login_tries WHERE username = p_username AND addr = p_addr;
    DELETE FROM auth_sessions WHERE user_id = p_user AND expires_at < now();
    INSERT INTO auth_sessions (token_hash, user_id, school_id, expires_at)
         VALUES (p_token_hash, u.id, u.school_id, now() + make_interval(secs => p_ttl));
    RETURN jsonb_build_object(
        'id', u.id, 'username', u.username, 'full_name', u.full_name,
        'role', u.role, 'school_id', u.school_id, 'province_id', u.province_id,
        'subject', u.subject,
        'expires_at', to_char((now() + make_interval(secs => p_ttl)) AT TIME ZONE 'UTC',
                              'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
END
$$;

-- Clears every count of an account of the caller's school: a teacher or
-- subject head may clear a student's, a school admin anyone's. Returns the
-- number of (account, address) counts cleared, or NULL when the caller may
-- not (or the account is not of the school).
CREATE FUNCTION kt_login_unlock(p_user bigint) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    name text;
    n integer;
BEGIN
    SELECT u.username INTO name FROM users u
     WHERE u.id = p_user AND u.school_id = kt_school()
       AND (u.role = 'student' OR current_setting('kiemtra.role', true) = 'school_admin')
       AND current_setting('kiemtra.role', true) IN ('teacher', 'subject_head', 'school_admin');
    IF name IS NULL THEN
        RETURN NULL;
    END IF;
    DELETE FROM login_tries WHERE username = name;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

REVOKE ALL ON FUNCTION kt_login_wait(integer, integer, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION kt_login_begin(text, text, integer, integer, integer, integer, integer)
    FROM PUBLIC;
REVOKE ALL ON FUNCTION kt_login_unlock(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kt_login_begin(text, text, integer, integer, integer, integer, integer)
    TO kiemtra_app;
GRANT EXECUTE ON FUNCTION kt_login_unlock(bigint) TO kiemtra_app;
