-- 0011: the bearer-token lookup that runs on every authenticated request,
-- in PL/pgSQL so that its query is planned once per connection instead of
-- on every call (a LANGUAGE sql SECURITY DEFINER function is never inlined
-- and was re-planned each time: 40 % of the machine's CPU under an exam-day
-- load, docs/BENCHMARKS.md). Same result as before.

CREATE OR REPLACE FUNCTION kt_session_user(p_token_hash bytea)
    RETURNS TABLE (user_id bigint, school_id bigint, province_id bigint, role user_role,
                   username text, full_name text, subject text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    RETURN QUERY
        SELECT u.id, u.school_id, u.province_id, u.role, u.username, u.full_name, u.subject
          FROM auth_sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = p_token_hash AND s.expires_at > now() AND NOT u.disabled;
END
$$;
