-- 0024: images uploaded by the item editor (POST /api/v1/media).
--
-- A school's uploaded image is stored once per content: (school_id, sha256)
-- is unique and an upload of the same bytes returns the stored row. Items
-- refer to an image as <img src="media/<sha256>.<ext>">; every version that
-- refers to it gets its own copy in item_assets (path 'media/<sha256>.<ext>')
-- in the statement that stores the version, so a version's images never
-- change with it. Media rows are never updated or deleted by the
-- application role, so a reference checked once stays valid.

CREATE TABLE media (
    id           bigserial PRIMARY KEY,
    school_id    bigint NOT NULL REFERENCES schools(id),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content_type text NOT NULL
                 CHECK (content_type IN ('image/png', 'image/jpeg', 'image/gif', 'image/webp')),
    data         bytea NOT NULL,
    created_by   bigint REFERENCES users(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- The name an item uses: media/<sha256>.<png|jpg|gif|webp>.
    path         text GENERATED ALWAYS AS ('media/' || sha256 || '.' ||
                 CASE content_type WHEN 'image/png' THEN 'png' WHEN 'image/jpeg' THEN 'jpg'
                                   WHEN 'image/gif' THEN 'gif' ELSE 'webp' END) STORED,
    UNIQUE (school_id, sha256)
);
CREATE INDEX media_path_idx ON media (school_id, path);

ALTER TABLE media ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON media
    USING (school_id = kt_school() OR kt_admin_sees(school_id))
    WITH CHECK (school_id = kt_school());
CREATE POLICY not_students ON media AS RESTRICTIVE USING (NOT kt_is_student());

GRANT SELECT, INSERT ON media TO kiemtra_app;
GRANT USAGE ON SEQUENCE media_id_seq TO kiemtra_app;

-- True when every path of refs (a JSON array of 'media/...' paths) names an
-- image of the caller's school; otherwise raises SQLSTATE KT422 with the
-- first missing path as its message (the gateway names the field).
CREATE FUNCTION kt_media_require(refs jsonb) RETURNS boolean
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    p text;
BEGIN
    FOR p IN SELECT jsonb_array_elements_text(coalesce(refs, '[]')) LOOP
        IF NOT EXISTS (SELECT 1 FROM media m WHERE m.school_id = kt_school() AND m.path = p) THEN
            RAISE EXCEPTION '%', p USING ERRCODE = 'KT422';
        END IF;
    END LOOP;
    RETURN true;
END
$$;
GRANT EXECUTE ON FUNCTION kt_media_require(jsonb) TO kiemtra_app;

-- The history of an item (GET /api/v1/items/{id}/history) reads its audit rows.
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id);
