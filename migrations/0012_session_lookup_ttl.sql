-- 0012: the bearer-token lookup also says how long the session still has,
-- so that the gateway may remember a token for a moment (at most
-- KIEMTRA_AUTH_CACHE_MS, never past the session's expiry) instead of asking
-- PostgreSQL on every request.

CREATE FUNCTION kt_session_lookup(p_token_hash bytea)
    RETURNS TABLE (user_id bigint, school_id bigint, province_id bigint, role user_role,
                   username text, seconds_left double precision)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    RETURN QUERY
        SELECT u.id, u.school_id, u.province_id, u.role, u.username,
               extract(epoch FROM s.expires_at - now())::double precision
          FROM auth_sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = p_token_hash AND s.expires_at > now() AND NOT u.disabled;
END
$$;

GRANT EXECUTE ON FUNCTION kt_session_lookup(bytea) TO kiemtra_app;
