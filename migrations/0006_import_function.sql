-- 0006: one SQL entry point for QTI imports, used by `kiemtra import` and by
-- POST /api/v1/items/import alike.
--
-- kt_import_qti(plan) takes the whole import of one file as a JSON document
-- built in C (itembank/import.c) and writes it in the caller's transaction:
--   {"school_id", "province_id", "subject", "grade", "actor_id" (or null),
--    "items": [{"identifier", "title", "content", "scoring", "xml",
--               "search_text", "tags": [...],
--               "assets": [{"path", "content_type", "data" (base64)}]}],
--    "tests": [{"identifier", "title", "xml"}]}
-- An item whose identifier the school already has is not written again when
-- one of its versions has the same XML (re-importing a file is a no-op);
-- when the XML is new it becomes a new version of that item, which
-- goes back to draft and needs a new approval, as any edit does. A test whose
-- identifier exists is left alone. It runs as the invoker, so row-level
-- security bounds it like any other statement. It returns
--   {"imported": [{"id", "identifier", "version"}], "updated": [...],
--    "existing": [...], "tests": [{"id", "identifier"}],
--    "tests_existing": [...], "assets": N}

CREATE FUNCTION kt_import_qti(plan jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_school   bigint := (plan->>'school_id')::bigint;
    v_province bigint := (plan->>'province_id')::bigint;
    v_actor    bigint := (plan->>'actor_id')::bigint;
    it         jsonb;
    a          jsonb;
    t          jsonb;
    v_id       bigint;
    v_version  integer;
    v_status   item_status;
    n_assets   integer := 0;
    imported   jsonb := '[]';
    existing   jsonb := '[]';
    updated    jsonb := '[]';
    tests      jsonb := '[]';
    tests_old  jsonb := '[]';
BEGIN
    FOR it IN SELECT * FROM jsonb_array_elements(coalesce(plan->'items', '[]')) LOOP
        SELECT i.id, i.current_version, i.status INTO v_id, v_version, v_status
          FROM items i
         WHERE i.province_id = v_province AND i.school_id IS NOT DISTINCT FROM v_school
           AND i.identifier = it->>'identifier'
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
            UPDATE items SET current_version = v_version, status = 'draft',
                   approved_by = NULL, approved_at = NULL
             WHERE id = v_id;
            updated := updated || jsonb_build_object('id', v_id, 'identifier', it->>'identifier',
                                                     'version', v_version);
        ELSE
            v_version := 1;
            INSERT INTO items (province_id, school_id, identifier, subject, grade, status,
                               current_version, created_by)
            VALUES (v_province, v_school, it->>'identifier', plan->>'subject',
                    (plan->>'grade')::smallint, 'draft', 1, v_actor)
            RETURNING id INTO v_id;
            imported := imported || jsonb_build_object('id', v_id, 'identifier', it->>'identifier',
                                                       'version', 1);
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
                jsonb_build_object('identifier', it->>'identifier', 'version', v_version,
                                   'status', 'draft', 'source', 'qti'));
    END LOOP;

    FOR t IN SELECT * FROM jsonb_array_elements(coalesce(plan->'tests', '[]')) LOOP
        SELECT id INTO v_id FROM qti_tests
         WHERE province_id = v_province AND school_id IS NOT DISTINCT FROM v_school
           AND identifier = t->>'identifier';
        IF FOUND THEN
            tests_old := tests_old || jsonb_build_object('id', v_id, 'identifier', t->>'identifier');
            CONTINUE;
        END IF;
        INSERT INTO qti_tests (school_id, province_id, identifier, title, xml)
        VALUES (v_school, v_province, t->>'identifier', t->>'title', t->>'xml')
        RETURNING id INTO v_id;
        tests := tests || jsonb_build_object('id', v_id, 'identifier', t->>'identifier');
    END LOOP;

    RETURN jsonb_build_object('imported', imported, 'updated', updated, 'existing', existing,
                              'tests', tests,
                              'tests_existing', tests_old, 'assets', n_assets);
END
$$;

GRANT EXECUTE ON FUNCTION kt_import_qti(jsonb) TO kiemtra_app;
