-- 0005: storage for imported QTI content (`kiemtra import`).
--
-- item_versions.qti_xml keeps the original XML of an imported QTI item so
-- that it can be exported faithfully. item_assets holds the files an item of
-- a content package refers to (images, stylesheets, media), per version.
-- qti_tests keeps imported assessmentTests (and sections) for delivery.

ALTER TABLE item_versions ADD COLUMN qti_xml text;

CREATE TABLE item_assets (
    id           bigserial PRIMARY KEY,
    item_id      bigint NOT NULL,
    version      integer NOT NULL,
    school_id    bigint REFERENCES schools(id),
    province_id  bigint NOT NULL REFERENCES provinces(id),
    path         text NOT NULL,          -- path inside the package
    content_type text NOT NULL,
    data         bytea NOT NULL,
    UNIQUE (item_id, version, path),
    FOREIGN KEY (item_id, version) REFERENCES item_versions (item_id, version)
);

CREATE TABLE qti_tests (
    id          bigserial PRIMARY KEY,
    school_id   bigint REFERENCES schools(id),
    province_id bigint NOT NULL REFERENCES provinces(id),
    identifier  text NOT NULL,
    title       text NOT NULL,
    xml         text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX qti_tests_identifier_idx ON qti_tests (province_id, coalesce(school_id, 0), identifier);

ALTER TABLE item_assets ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON item_assets
    USING (school_id = kt_school()
           OR (school_id IS NULL AND province_id IN (kt_province(), kt_admin_province()))
           OR province_id = kt_admin_province())
    WITH CHECK (school_id = kt_school() OR province_id = kt_admin_province());

ALTER TABLE qti_tests ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON qti_tests
    USING (school_id = kt_school()
           OR (school_id IS NULL AND province_id IN (kt_province(), kt_admin_province()))
           OR province_id = kt_admin_province())
    WITH CHECK (school_id = kt_school() OR province_id = kt_admin_province());

GRANT SELECT, INSERT ON item_assets, qti_tests TO kiemtra_app;
GRANT USAGE ON SEQUENCE item_assets_id_seq, qti_tests_id_seq TO kiemtra_app;
