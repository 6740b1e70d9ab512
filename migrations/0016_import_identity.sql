-- 0016: an imported item is known by where it came from as well as by its
-- identifier, and an import never takes an approved item out of delivery.
--
-- items.origin / qti_tests.origin: the source of an import (itembank/import.c):
--   'package:<manifest identifier>', 'package-sha256:<hex of imsmanifest.xml>'
--   when the manifest has no identifier, 'file:<file name>' for one document,
--   'file-sha256:<hex of the document>' for one that came without a name (a
--   name longer than 200 bytes or not UTF-8 is replaced by its SHA-256 too);
--   '' for items written in kiemtra and items imported before this migration.
-- Identifiers are unique per (school, origin): two packages that both call
-- an item `choice` give two items; the same package imported again finds its
-- own items.
--
-- items.approved_version: the version delivered (tests, QTI publish, export
-- of approved items). items.pending_status: set only on an approved item
-- whose newer version (current_version) came in by import and awaits review
-- ('draft' or 'submitted'); the item stays 'approved' at approved_version
-- until that version is approved. A trigger keeps approved_version equal to
-- current_version whenever an item is approved with nothing pending, and
-- clears both for a draft or submitted item, so every other writer (the
-- items API, the demo loader) keeps its meaning.

ALTER TABLE items
    ADD COLUMN origin text NOT NULL DEFAULT '',
    ADD COLUMN approved_version integer,
    ADD COLUMN pending_status item_status,
    ADD CONSTRAINT items_pending_status_check CHECK (pending_status IS NULL
        OR (pending_status IN ('draft', 'submitted') AND status = 'approved'));
UPDATE items SET approved_version = current_version WHERE status IN ('approved', 'retired');

DROP INDEX items_identifier_idx;
CREATE UNIQUE INDEX items_origin_identifier_idx
    ON items (province_id, coalesce(school_id, 0), origin, identifier);
CREATE INDEX items_school_identifier_idx ON items (school_id, identifier);

ALTER TABLE qti_tests ADD COLUMN origin text NOT NULL DEFAULT '';
DROP INDEX qti_tests_identifier_idx;
CREATE INDEX qti_tests_identifier_idx
    ON qti_tests (province_id, coalesce(school_id, 0), origin, identifier);

CREATE FUNCTION kt_items_approved_version() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.status <> 'approved' THEN
        NEW.pending_status := NULL;
    END IF;
    IF NEW.status IN ('draft', 'submitted') THEN
        NEW.approved_version := NULL;
    ELSIF NEW.status = 'approved' AND NEW.pending_status IS NULL THEN
        NEW.approved_version := NEW.current_version;
    ELSIF NEW.approved_version IS NULL THEN -- retired without ever being approved here
        NEW.approved_version := NEW.current_version;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER items_approved_version BEFORE INSERT OR UPDATE ON items
    FOR EACH ROW EXECUTE FUNCTION kt_items_approved_version();

-- kt_import_qti(plan): as in 0006, with plan->>'origin' part of the lookup.
-- A changed document of an item that is not approved becomes its new version
-- and the item goes (back) to draft; of an approved item, a new version with
-- pending_status 'draft' while approved_version stays delivered. Entries of
-- "imported" and "updated" carry the new version's status; "updated" also
-- the approved version still delivered (null when none). Returns
--   {"origin", "imported": [{"id", "identifier", "version", "status"}],
--    "updated": [{"id", "identifier", "version", "status", "approved_version"}],
--    "existing": [{"id", "identifier", "version"}], "tests": [{"id", "identifier"}],
--    "tests_existing": [...], "assets": N}
CREATE OR REPLACE FUNCTION kt_import_qti(plan jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_school   bigint := (plan->>'school_id')::bigint;
    v_province bigint := (plan->>'province_id')::bigint;
    v_actor    bigint := (plan->>'actor_id')::bigint;
    v_origin   text := coalesce(plan->>'origin', '');
    it         jsonb;
    a          jsonb;
    t          jsonb;
    v_id       bigint;
    v_version  integer;
    v_approved integer;
    v_status   item_status;
    n_assets   integer := 0;
    imported   jsonb := '[]';
    existing   jsonb := '[]';
    updated    jsonb := '[]';
    tests      jsonb := '[]';
    tests_old  jsonb := '[]';
BEGIN
    FOR it IN SELECT * FROM jsonb_array_elements(coalesce(plan->'items', '[]')) LOOP
        SELECT i.id, i.current_version, i.status, i.approved_version
          INTO v_id, v_version, v_status, v_approved
          FROM items i
         WHERE i.province_id = v_province AND i.school_id IS NOT DISTINCT FROM v_school
           AND i.origin = v_origin AND i.identifier = it->>'identifier'
           FOR UPDATE;
        IF FOUND AND EXISTS (SELECT 1 FROM item_versions v
                              WHERE v.item_id = v_id AND v.qti_xml = it->>'xml') THEN
            existing := existing || jsonb_build_object('id', v_id, 'identifier', it->>'identifier',
                'version', (SELECT min(v.version) FROM item_versions v
                             WHERE v.item_id = v_id AND v.qti_xml = it->>'xml'));
            CONTINUE;
        ELSIF FOUND THEN
            IF v_status = 'retired' THEN
                RAISE EXCEPTION 'câu hỏi % đã ngừng sử dụng, không nhập phiên bản mới được',
                    it->>'identifier' USING ERRCODE = 'check_violation';
            END IF;
            v_version := v_version + 1;
            IF v_status = 'approved' THEN
                UPDATE items SET current_version = v_version, pending_status = 'draft'
                 WHERE id = v_id;
            ELSE
                UPDATE items SET current_version = v_version, status = 'draft',
                       approved_by = NULL, approved_at = NULL
                 WHERE id = v_id;
            END IF;
            updated := updated || jsonb_build_object('id', v_id, 'identifier', it->>'identifier',
                                                     'version', v_version, 'status', 'draft',
                                                     'approved_version', v_approved);
        ELSE
            v_version := 1;
            INSERT INTO items (province_id, school_id, origin, identifier, subject, grade,
                               status, current_version, created_by)
            VALUES (v_province, v_school, v_origin, it->>'identifier', plan->>'subject',
                    (plan->>'grade')::smallint, 'draft', 1, v_actor)
            RETURNING id INTO v_id;
            imported := imported || jsonb_build_object('id', v_id, 'identifier', it->>'identifier',
                                                       'version', 1, 'status', 'draft');
        END IF;
        INSERT INTO item_versions (item_id, version, province_id, school_id, kind, title,
                                   content, scoring, tags, search_text, qti_xml, created_by)
        VALUES (v_id, v_version, v_province, v_school, 'QTI', it->>'title', it->'content',
                it->'scoring',
                ARRAY(SELECT jsonb_array_elements_text(coalesce(it->'tags', '[]'))),
                it->>'search_text', it->>'xml', v_actor);
        FOR a IN SELECT * FROM jsonb_array_elements(coalesce(it->'assets', '[]')) LOOP
            INSERT INTO item_assets (item_id, version, school_id, province_id, path,
                                     content_type, data)
            VALUES (v_id, v_version, v_school, v_province, a->>'path', a->>'content_type',
                    decode(a->>'data', 'base64'))
            ON CONFLICT (item_id, version, path) DO NOTHING;
            IF FOUND THEN
                n_assets := n_assets + 1;
            END IF;
        END LOOP;
        INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)
        VALUES (v_school, v_actor, 'item.import', 'item', v_id::text,
                jsonb_build_object('identifier', it->>'identifier', 'origin', v_origin,
                                   'version', v_version, 'status', 'draft',
                                   'approved_version', v_approved, 'source', 'qti'));
    END LOOP;

    FOR t IN SELECT * FROM jsonb_array_elements(coalesce(plan->'tests', '[]')) LOOP
        SELECT id INTO v_id FROM qti_tests
         WHERE province_id = v_province AND school_id IS NOT DISTINCT FROM v_school
           AND origin = v_origin AND identifier = t->>'identifier';
        IF FOUND THEN
            tests_old := tests_old || jsonb_build_object('id', v_id, 'identifier', t->>'identifier');
            CONTINUE;
        END IF;
        INSERT INTO qti_tests (school_id, province_id, origin, identifier, title, xml)
        VALUES (v_school, v_province, v_origin, t->>'identifier', t->>'title', t->>'xml')
        RETURNING id INTO v_id;
        tests := tests || jsonb_build_object('id', v_id, 'identifier', t->>'identifier');
    END LOOP;

    RETURN jsonb_build_object('origin', v_origin, 'imported', imported, 'updated', updated,
                              'existing', existing, 'tests', tests,
                              'tests_existing', tests_old, 'assets', n_assets);
END
$$;
