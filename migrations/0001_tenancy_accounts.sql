-- 0001: tenants (province -> schools), people, classes, login sessions, audit.
--
-- Isolation: every table holding school data has school_id and row-level
-- security. The gateway connects as kiemtra_app (not the owner, not a
-- superuser) and sets, per transaction:
--   kiemtra.school_id       the caller's school (empty for the province admin)
--   kiemtra.admin_province  the province of an admin caller (empty otherwise)
--   kiemtra.user_id, kiemtra.role
-- A query that forgets its WHERE clause still sees only the caller's school.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kiemtra_app') THEN
        CREATE ROLE kiemtra_app NOLOGIN;
    END IF;
END
$$;

CREATE TYPE user_role AS ENUM ('admin', 'school_admin', 'subject_head', 'teacher', 'student');

CREATE TABLE provinces (
    id          bigserial PRIMARY KEY,
    code        text NOT NULL UNIQUE,          -- mã Sở GDĐT
    name        text NOT NULL
);

CREATE TABLE schools (
    id          bigserial PRIMARY KEY,
    province_id bigint NOT NULL REFERENCES provinces(id),
    code        text NOT NULL UNIQUE,          -- mã trường (CSDL)
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    province_id   bigint NOT NULL REFERENCES provinces(id),
    school_id     bigint REFERENCES schools(id),       -- NULL only for province admins
    username      text NOT NULL UNIQUE,
    full_name     text NOT NULL,
    role          user_role NOT NULL,
    password_hash text NOT NULL,                       -- argon2id encoded string
    student_code  text,                                -- mã học sinh (CSDL)
    birth_date    date,
    gender        smallint NOT NULL DEFAULT 0 CHECK (gender IN (0, 1, 2)), -- 0 unknown, 1 nam, 2 nữ
    subject       text,                                -- subject code for teachers / subject heads
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'admin') = (school_id IS NULL)),
    CHECK (role <> 'student' OR student_code IS NOT NULL),
    UNIQUE (school_id, student_code)
);
CREATE INDEX users_school_idx ON users (school_id, role);

CREATE TABLE classes (
    id          bigserial PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES schools(id),
    school_year text NOT NULL CHECK (school_year ~ '^[0-9]{4}-[0-9]{4}$'),
    name        text NOT NULL,                         -- e.g. 10A1
    grade       smallint NOT NULL CHECK (grade BETWEEN 1 AND 12),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (school_id, school_year, name)
);

CREATE TABLE class_members (
    class_id    bigint NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    school_id   bigint NOT NULL REFERENCES schools(id),
    PRIMARY KEY (class_id, user_id)
);
CREATE INDEX class_members_user_idx ON class_members (user_id);

-- Bearer tokens: only the SHA-256 of the token is stored.
CREATE TABLE auth_sessions (
    token_hash  bytea PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    school_id   bigint REFERENCES schools(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX auth_sessions_expiry_idx ON auth_sessions (expires_at);

-- Failed-login counters, keyed 'u:<username>' and 'a:<address>'.
CREATE TABLE login_throttle (
    key          text PRIMARY KEY,
    failures     integer NOT NULL,
    window_start timestamptz NOT NULL
);

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    school_id   bigint REFERENCES schools(id),
    actor_id    bigint REFERENCES users(id),
    action      text NOT NULL,
    entity      text NOT NULL,
    entity_id   text,
    old_value   jsonb,
    new_value   jsonb,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_school_idx ON audit_log (school_id, at);

-- ---------------------------------------------------------------------------
-- Tenant context helpers used by the policies.

CREATE FUNCTION kt_school() RETURNS bigint
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('kiemtra.school_id', true), '')::bigint $$;

CREATE FUNCTION kt_admin_province() RETURNS bigint
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('kiemtra.admin_province', true), '')::bigint $$;

-- True when the caller is a province admin whose province holds the school.
-- SECURITY DEFINER so that it can read schools without recursing into RLS.
CREATE FUNCTION kt_admin_sees(p_school bigint) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT kt_admin_province() IS NOT NULL
           AND EXISTS (SELECT 1 FROM schools s
                        WHERE s.id = p_school AND s.province_id = kt_admin_province())
    $$;

ALTER TABLE schools ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON schools
    USING (id = kt_school() OR province_id = kt_admin_province());

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON users
    USING (school_id = kt_school() OR province_id = kt_admin_province())
    WITH CHECK (school_id = kt_school() OR kt_admin_sees(school_id));

ALTER TABLE classes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON classes
    USING (school_id = kt_school() OR kt_admin_sees(school_id));

ALTER TABLE class_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON class_members
    USING (school_id = kt_school() OR kt_admin_sees(school_id));

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON audit_log
    USING (school_id = kt_school() OR kt_admin_sees(school_id));

-- No policies: the application role reaches these only through the
-- SECURITY DEFINER functions below.
ALTER TABLE auth_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE login_throttle ENABLE ROW LEVEL SECURITY;

-- ---------------------------------------------------------------------------
-- Login and session functions (run with the owner's rights, narrow inputs).

-- Throttle check and user lookup in one round trip. Returns retry_after > 0
-- when the account or the address is locked out; otherwise the user (if any).
CREATE FUNCTION kt_login_begin(p_username text, p_addr text,
                               p_max_user integer, p_max_addr integer, p_window integer)
    RETURNS TABLE (retry_after integer, user_id bigint, password_hash text, disabled boolean)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    wait integer := 0;
    r record;
BEGIN
    FOR r IN SELECT t.failures, t.window_start, t.key FROM login_throttle t
              WHERE t.key IN ('u:' || p_username, 'a:' || p_addr)
    LOOP
        IF r.window_start + make_interval(secs => p_window) > now()
           AND r.failures >= (CASE WHEN left(r.key, 2) = 'u:' THEN p_max_user ELSE p_max_addr END)
        THEN
            wait := greatest(wait, ceil(extract(epoch FROM
                        r.window_start + make_interval(secs => p_window) - now()))::integer);
        END IF;
    END LOOP;
    IF wait > 0 THEN
        RETURN QUERY SELECT greatest(wait, 1), NULL::bigint, NULL::text, NULL::boolean;
        RETURN;
    END IF;
    RETURN QUERY SELECT 0, u.id, u.password_hash, u.disabled
                   FROM users u WHERE u.username = p_username
                  UNION ALL
                 SELECT 0, NULL::bigint, NULL::text, NULL::boolean
                  WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.username = p_username);
END
$$;

-- Records the outcome of a password check. On success creates the session
-- and clears the account's failures; returns the user as JSON (NULL on failure).
CREATE FUNCTION kt_login_finish(p_username text, p_addr text, p_user bigint, p_ok boolean,
                                p_token_hash bytea, p_ttl integer, p_window integer)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    u users%ROWTYPE;
    k text;
BEGIN
    IF NOT p_ok THEN
        FOREACH k IN ARRAY ARRAY['u:' || p_username, 'a:' || p_addr] LOOP
            INSERT INTO login_throttle AS t (key, failures, window_start)
                 VALUES (k, 1, now())
            ON CONFLICT (key) DO UPDATE
                 SET failures = CASE WHEN t.window_start + make_interval(secs => p_window) > now()
                                     THEN t.failures + 1 ELSE 1 END,
                     window_start = CASE WHEN t.window_start + make_interval(secs => p_window) > now()
                                         THEN t.window_start ELSE now() END;
        END LOOP;
        RETURN NULL;
    END IF;
    SELECT * INTO u FROM users WHERE id = p_user AND NOT disabled;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    DELETE FROM login_throttle WHERE key = 'u:' || p_username;
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

-- Resolves a bearer token to its user; no row when unknown or expired.
CREATE FUNCTION kt_session_user(p_token_hash bytea)
    RETURNS TABLE (user_id bigint, school_id bigint, province_id bigint, role user_role,
                   username text, full_name text, subject text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT u.id, u.school_id, u.province_id, u.role, u.username, u.full_name, u.subject
          FROM auth_sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = p_token_hash AND s.expires_at > now() AND NOT u.disabled
    $$;

CREATE FUNCTION kt_session_end(p_token_hash bytea) RETURNS boolean
    LANGUAGE sql SECURITY DEFINER SET search_path = public
    AS $$
        WITH d AS (DELETE FROM auth_sessions WHERE token_hash = p_token_hash RETURNING 1)
        SELECT EXISTS (SELECT 1 FROM d)
    $$;

-- ---------------------------------------------------------------------------
-- Privileges of the application role.

GRANT USAGE ON SCHEMA public TO kiemtra_app;
GRANT SELECT ON provinces TO kiemtra_app;
GRANT SELECT ON schools TO kiemtra_app;
GRANT SELECT, INSERT, UPDATE ON users, classes, class_members TO kiemtra_app;
GRANT DELETE ON class_members TO kiemtra_app;
GRANT SELECT, INSERT ON audit_log TO kiemtra_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO kiemtra_app;
REVOKE ALL ON FUNCTION kt_login_begin(text, text, integer, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION kt_login_finish(text, text, bigint, boolean, bytea, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION kt_session_user(bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION kt_session_end(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kt_login_begin(text, text, integer, integer, integer) TO kiemtra_app;
GRANT EXECUTE ON FUNCTION kt_login_finish(text, text, bigint, boolean, bytea, integer, integer) TO kiemtra_app;
GRANT EXECUTE ON FUNCTION kt_session_user(bytea) TO kiemtra_app;
GRANT EXECUTE ON FUNCTION kt_session_end(bytea) TO kiemtra_app;
