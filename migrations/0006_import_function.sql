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
-- An item or test whose identifier the school already has is not written
-- again (re-importing a file is a no-op). It runs as the invoker, so row-level
-- security bounds it like any other statement. It returns
--   {"imported": [{"id", "identifier"}], "existing": [...],
--    "tests": [{"id", "identifier"}], "tests_existing": [...], "assets": N}

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
    n_assets   integer := 0;
    imported   jsonb := '[]';
    existing   jsonb := '[]';
    tests      jsonb := '[]';
    tests_old  jsonb := '[]';
BEGIN
    FOR it IN SELECT * FROM jsonb_array_elements(coalesce(plan->'items', '[]')) LOOP
        SELECT id INTO v_id FROM items
         WHERE province_id = v_province AND school_id IS NOT DISTINCT FROM v_school
           AND identifier = it->>'identifier';
        IF FOUND THEN
            existing := existing || jsonb_build_object('id', v_id, 'identifier', it->>'identifier');
            CONTINUE;
        END IF;
        INSERT INTO items (province_id, school_id, identifier, subject, grade, status,
                           current_version, created_by)
        VALUES (v_province, v_school, it->>'identifier', plan->>'subject',
                (plan->>'grade')::smallint, 'draft', 1, v_actor)
        RETURNING id INTO v_id;
        INSERT INTO item_versions (item_id, version, province_id, school_id, kind, title,
                                   content, scoring, tags, search_text, qti_xml, created_by)
        VALUES (v_id, 1, v_province, v_school, 'QTI', it->>'title', it->'content',
                it->'scoring',
                ARRAY(SELECT jsonb_array_elements_text(coalesce(it->'tags', '[]'))),
                it->>'search_text', it->>'xml', v_actor);
        FOR a IN SELECT * FROM jsonb_array_elements(coalesce(it->'assets', '[]')) LOOP
            INSERT INTO item_assets (item_id, version, school_id, province_id, path,
                                     content_type, data)
            VALUES (v_id, 1, v_school, v_province, a->>'path', a->>'content_type',
                    decode(a->>'data', 'base64'))
            ON CONFLICT (item_id, version, path) DO NOTHING;
            IF FOUND THEN
                n_assets := n_assets + 1;
            END IF;
        END LOOP;
        INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)
        VALUES (v_school, v_actor, 'item.import', 'item', v_id::text,
                jsonb_build_object('identifier', it->>'identifier', 'version', 1,
                                   'status', 'draft', 'source', 'qti'));
        imported := imported || jsonb_build_object('id', v_id, 'identifier', it->>'identifier');
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

    RETURN jsonb_build_object('imported', imported, 'existing', existing, 'tests', tests,
                              'tests_existing', tests_old, 'assets', n_assets);
END
$$;

GRANT EXECUTE ON FUNCTION kt_import_qti(jsonb) TO kiemtra_app;
