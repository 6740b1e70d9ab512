-- 0022: accounts managed from the web (gateway/users.c), and the roster
-- import shared by `kiemtra users import` and POST /api/v1/rosters/import.
--
-- Who manages which account (kt_may_manage_user): a school_admin every
-- account of the school but the province admins; a teacher or subject_head
-- the students of a class they teach (kt_teaches_any, 0020). The handlers
-- check the same rule and answer 403; the functions below are the second
-- line.
--
-- The roster functions run with the caller's rights (row-level security
-- applies to the gateway's role) inside the tenant the caller set
-- (kiemtra.school_id; the command line sets it for its transaction). Only
-- whether a username is held in another school is answered past RLS
-- (kt_username_elsewhere): a student code is its student's login, so a code
-- used elsewhere must be refused by name.

-- ---------------------------------------------------------------------------
-- Who may manage an account.

CREATE FUNCTION kt_may_manage_user(p_user bigint) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT EXISTS (
            SELECT 1 FROM users u
             WHERE u.id = p_user AND u.school_id = kt_school() AND u.role <> 'admin'
               AND (kt_role() = 'school_admin'
                    OR (kt_role() IN ('teacher', 'subject_head') AND u.role = 'student'
                        AND EXISTS (SELECT 1 FROM class_members m
                                     WHERE m.user_id = u.id AND kt_teaches_any(m.class_id)))))
    $$;

-- Ends every session of an account the caller may manage and clears its
-- login delays (the counts of 0017): after a password reset, or when the
-- account is disabled. The number of sessions ended, NULL when the caller
-- may not manage the account. The gateway then forgets the account's
-- remembered tokens (api_users_forget).
CREATE FUNCTION kt_account_sessions_end(p_user bigint) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    name text;
    n integer;
BEGIN
    IF NOT kt_may_manage_user(p_user) THEN
        RETURN NULL;
    END IF;
    SELECT u.username INTO name FROM users u WHERE u.id = p_user;
    DELETE FROM auth_sessions WHERE user_id = p_user;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM login_tries WHERE username = name;
    RETURN n;
END
$$;

-- True when an account outside the caller's school holds the username.
CREATE FUNCTION kt_username_elsewhere(p_username text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT EXISTS (SELECT 1 FROM users u
                        WHERE u.username = p_username
                          AND u.school_id IS DISTINCT FROM kt_school())
    $$;

-- ---------------------------------------------------------------------------
-- Rosters. p_students is the validated roster (engine/roster.c) as
-- [{row, code, name, birth (YYYY-MM-DD), gender (0-2), class, grade}];
-- a student's login is the lower-cased student code.

-- What importing would do in the caller's school for p_year, writing
-- nothing: {students: [{row, code, name, class, action, user_id}],
-- classes: [{name, grade, action}]}. action: 'create' | 'update' for a
-- class or student; for a student also 'elsewhere' (the code is a login of
-- another school) or 'taken' (a login of a non-student account here).
CREATE FUNCTION kt_roster_plan(p_year text, p_students jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    WITH a AS (
        SELECT x.row, x.code, x.name, x.class, x.grade, m.uid,
               CASE WHEN kt_username_elsewhere(lower(x.code)) THEN 'elsewhere'
                    WHEN m.n = 0 THEN 'create'
                    WHEN m.n = 1 AND m.students = 1 THEN 'update'
                    ELSE 'taken' END AS action
          FROM jsonb_to_recordset(p_students)
               AS x("row" integer, code text, name text, class text, grade smallint)
          CROSS JOIN LATERAL (
               SELECT count(*) AS n, min(u.id) AS uid,
                      count(*) FILTER (WHERE u.role = 'student') AS students
                 FROM users u
                WHERE u.school_id = kt_school()
                  AND (u.username = lower(x.code) OR u.student_code = x.code)) m
    )
    SELECT jsonb_build_object(
        'students', coalesce((SELECT jsonb_agg(jsonb_build_object(
                        'row', a.row, 'code', a.code, 'name', a.name, 'class', a.class,
                        'action', a.action,
                        'user_id', CASE WHEN a.action = 'update' THEN a.uid END)
                        ORDER BY a.row) FROM a), '[]'::jsonb),
        'classes', coalesce((SELECT jsonb_agg(jsonb_build_object(
                        'name', k.class, 'grade', k.grade,
                        'action', CASE WHEN EXISTS (SELECT 1 FROM classes c
                                                     WHERE c.school_id = kt_school()
                                                       AND c.school_year = p_year
                                                       AND c.name = k.class)
                                       THEN 'update' ELSE 'create' END)
                        ORDER BY k.class)
                      FROM (SELECT DISTINCT ON (class) class, grade FROM a
                             ORDER BY class, "row") k), '[]'::jsonb))
    $$;

-- Imports the roster into the caller's school for p_year, or nothing: when
-- any student cannot be imported (kt_roster_plan's 'elsewhere' or 'taken',
-- or a student to create without a hash in p_hashes {code: argon2id}), no
-- row is written and the plan is returned with ok = false. Otherwise
-- classes are created (or their grade updated), new students created with
-- their hash, known ones updated (name, birth date, gender) and moved to
-- the roster's class for the year (one class per school year), one audit
-- row 'roster.import' written, and {ok: true, created: [{row, id, username}],
-- updated, classes} returned.
CREATE FUNCTION kt_roster_store(p_year text, p_students jsonb, p_hashes jsonb, p_actor bigint)
    RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
    plan jsonb := kt_roster_plan(p_year, p_students);
    s record;
    v_class bigint;
    v_user bigint;
    created jsonb := '[]'::jsonb;
    updated jsonb := '[]'::jsonb;
BEGIN
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(plan->'students') e
                WHERE e->>'action' IN ('elsewhere', 'taken')
                   OR (e->>'action' = 'create' AND p_hashes->(e->>'code') IS NULL)) THEN
        RETURN plan || jsonb_build_object('ok', false);
    END IF;
    FOR s IN SELECT x.*, p.action, (p.user_id)::bigint AS uid
               FROM jsonb_to_recordset(p_students)
                    AS x("row" integer, code text, name text, birth date, gender smallint,
                         class text, grade smallint)
               JOIN jsonb_to_recordset(plan->'students')
                    AS p("row" integer, action text, user_id bigint) ON p.row = x.row
              ORDER BY x.row
    LOOP
        INSERT INTO classes (school_id, school_year, name, grade)
             VALUES (kt_school(), p_year, s.class, s.grade)
        ON CONFLICT (school_id, school_year, name) DO UPDATE SET grade = EXCLUDED.grade
        RETURNING id INTO v_class;
        IF s.action = 'update' THEN
            v_user := s.uid;
            UPDATE users SET full_name = s.name, birth_date = s.birth, gender = s.gender
             WHERE id = v_user;
            updated := updated || to_jsonb(v_user);
        ELSE
            INSERT INTO users (province_id, school_id, username, full_name, role, password_hash,
                               student_code, birth_date, gender)
                 SELECT sc.province_id, sc.id, lower(s.code), s.name, 'student',
                        p_hashes->>s.code, s.code, s.birth, s.gender
                   FROM schools sc WHERE sc.id = kt_school()
            RETURNING id INTO v_user;
            created := created || jsonb_build_object('row', s.row, 'id', v_user,
                                                     'username', lower(s.code));
        END IF;
        DELETE FROM class_members m USING classes c
         WHERE m.class_id = c.id AND m.user_id = v_user AND c.school_year = p_year
           AND c.id <> v_class;
        INSERT INTO class_members (class_id, user_id, school_id)
             VALUES (v_class, v_user, kt_school())
        ON CONFLICT DO NOTHING;
    END LOOP;
    INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)
         VALUES (kt_school(), p_actor, 'roster.import', 'school', kt_school()::text,
                 jsonb_build_object('school_year', p_year,
                                    'created', (SELECT coalesce(jsonb_agg(e->'id'), '[]'::jsonb)
                                                  FROM jsonb_array_elements(created) e),
                                    'updated', updated,
                                    'classes', plan->'classes'));
    RETURN jsonb_build_object('ok', true, 'created', created,
                              'updated', jsonb_array_length(updated),
                              'classes', plan->'classes');
END
$$;

REVOKE ALL ON FUNCTION kt_may_manage_user(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION kt_account_sessions_end(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION kt_username_elsewhere(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kt_may_manage_user(bigint), kt_account_sessions_end(bigint),
    kt_username_elsewhere(text), kt_roster_plan(text, jsonb),
    kt_roster_store(text, jsonb, jsonb, bigint) TO kiemtra_app;
