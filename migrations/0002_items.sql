-- 0002: the question bank's core: items with immutable versions.
--
-- An item is the stable identity (owner, subject, status); every edit of its
-- content, key or tags adds a row to item_versions, and anything that used a
-- version keeps pointing at that (item_id, version). content is what a
-- student may see; scoring (keys, tolerances, score tables, rubrics) never
-- leaves the server in a student payload.

CREATE TYPE item_status AS ENUM ('draft', 'submitted', 'approved', 'retired');

CREATE FUNCTION kt_province() RETURNS bigint
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('kiemtra.province_id', true), '')::bigint $$;

CREATE TABLE items (
    id              bigserial PRIMARY KEY,
    province_id     bigint NOT NULL REFERENCES provinces(id),
    school_id       bigint REFERENCES schools(id),   -- NULL: shared with the whole province
    identifier      text NOT NULL,                   -- QTI identifier, stable across systems
    subject         text NOT NULL,                   -- subject code (TOAN, NV, ...)
    grade           smallint NOT NULL CHECK (grade BETWEEN 1 AND 12),
    status          item_status NOT NULL DEFAULT 'draft',
    current_version integer NOT NULL DEFAULT 1,
    created_by      bigint REFERENCES users(id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    approved_by     bigint REFERENCES users(id),
    approved_at     timestamptz
);
CREATE UNIQUE INDEX items_identifier_idx ON items (province_id, coalesce(school_id, 0), identifier);
CREATE INDEX items_subject_idx ON items (subject, grade, status);

CREATE TABLE item_versions (
    item_id     bigint NOT NULL REFERENCES items(id),
    version     integer NOT NULL,
    province_id bigint NOT NULL REFERENCES provinces(id),
    school_id   bigint REFERENCES schools(id),
    kind        text NOT NULL CHECK (kind IN ('MCQ4', 'MR', 'TF4', 'SHORT', 'ESSAY', 'QTI')),
    title       text NOT NULL,
    content     jsonb NOT NULL,   -- stem, options, statements: safe to show a student
    scoring     jsonb NOT NULL,   -- keys, tolerance, score table, rubric: server only
    tags        text[] NOT NULL DEFAULT '{}', -- taxonomy codes (outcome, level, format, competency)
    created_by  bigint REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item_id, version)
);
CREATE INDEX item_versions_tags_idx ON item_versions USING gin (tags);

-- Visible: the caller's school's items, the province's shared items, and for
-- a province admin everything in the province.
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON items
    USING (school_id = kt_school()
           OR (school_id IS NULL AND province_id IN (kt_province(), kt_admin_province()))
           OR province_id = kt_admin_province())
    WITH CHECK (school_id = kt_school() OR province_id = kt_admin_province());

ALTER TABLE item_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON item_versions
    USING (school_id = kt_school()
           OR (school_id IS NULL AND province_id IN (kt_province(), kt_admin_province()))
           OR province_id = kt_admin_province())
    WITH CHECK (school_id = kt_school() OR province_id = kt_admin_province());

GRANT SELECT, INSERT, UPDATE ON items, item_versions TO kiemtra_app;
GRANT USAGE ON SEQUENCE items_id_seq TO kiemtra_app;
