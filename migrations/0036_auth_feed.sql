-- 0036: every change that ends or alters a live session is announced on the
-- channel kt_auth once its transaction commits, so that each gateway process
-- forgets the tokens it remembers (gateway/authfeed.c) instead of asking
-- PostgreSQL again on every request. Payloads:
--   t:\x<sha-256 hex>   one session ended (logout, revocation, its account's
--                       sessions ended, its account deleted) or shortened
--   u:<user id>         the account's role, school, province, name or
--                       disabled flag changed
-- NOTIFY delivers at commit, drops duplicates within a transaction and
-- nothing of a transaction that rolls back.

CREATE FUNCTION kt_auth_session_changed() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public
    AS $$
BEGIN
    PERFORM pg_notify('kt_auth', 't:\x' || encode(OLD.token_hash, 'hex'));
    RETURN NULL;
END
$$;

-- Sessions already expired are remembered nowhere: deleting them (the
-- clean-up at login) announces nothing.
CREATE TRIGGER auth_sessions_end_announced
    AFTER DELETE ON auth_sessions FOR EACH ROW
    WHEN (OLD.expires_at > now())
    EXECUTE FUNCTION kt_auth_session_changed();

CREATE TRIGGER auth_sessions_shortened_announced
    AFTER UPDATE OF expires_at ON auth_sessions FOR EACH ROW
    WHEN (NEW.expires_at < OLD.expires_at AND OLD.expires_at > now())
    EXECUTE FUNCTION kt_auth_session_changed();

CREATE FUNCTION kt_auth_user_changed() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public
    AS $$
BEGIN
    PERFORM pg_notify('kt_auth', 'u:' || NEW.id);
    RETURN NULL;
END
$$;

-- What the token lookup (kt_session_lookup) returns about the account.
CREATE TRIGGER users_session_fields_announced
    AFTER UPDATE ON users FOR EACH ROW
    WHEN (OLD.disabled IS DISTINCT FROM NEW.disabled OR OLD.role IS DISTINCT FROM NEW.role
          OR OLD.school_id IS DISTINCT FROM NEW.school_id
          OR OLD.province_id IS DISTINCT FROM NEW.province_id
          OR OLD.username IS DISTINCT FROM NEW.username)
    EXECUTE FUNCTION kt_auth_user_changed();
