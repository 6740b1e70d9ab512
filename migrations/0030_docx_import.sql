-- 0030: questions imported from a Word document (.docx, docs/IMPORT-WORD.md).
--
-- kt_import_docx(plan) stores what gateway/item_docx.c read from one file, in
-- the one statement that calls it: the pictures into media (once per school
-- and content, as an editor upload), then per question an item (draft, of
-- the plan's school), its version 1 in the authoring formats, a copy of each
-- picture it shows in item_assets, and an audit row 'item.import'.
--
-- Identity: items.origin is 'docx-sha256:<SHA-256 of the file>' and the
-- identifier '<SUBJECT>-<grade>-docx-<first 10 hex of the SHA-256>-<n>'
-- (n the question number, 'p2-3' for question 3 of PHẦN II), so the same
-- file imported again finds its items (reported "existing", nothing
-- written) while an edited file is a new origin with new items.
--
-- plan: {"school_id", "province_id", "actor_id", "subject", "grade",
--   "origin", "images": [{"sha256", "content_type", "data" (base64)}],
--   "items": [{"identifier", "number", "part", "kind", "title", "content",
--   "scoring", "tags", "search_text", "media": ["media/<sha256>.<ext>"]}]}
-- Returns {"origin", "imported": [{"id", "identifier", "number", "part",
--   "version", "status"}], "existing": [{"id", "identifier", "number",
--   "part"}], "media": <pictures new to the school>, "assets": <copies>}.
-- The caller's RLS and the triggers of 0021 apply (the function is not a
-- security definer).
CREATE FUNCTION kt_import_docx(plan jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_school   bigint := (plan->>'school_id')::bigint;
    v_province bigint := (plan->>'province_id')::bigint;
    v_actor    bigint := (plan->>'actor_id')::bigint;
    v_origin   text := plan->>'origin';
    it         jsonb;
    v_id       bigint;
    n_media    integer;
    n_assets   integer := 0;
    n          integer;
    imported   jsonb := '[]';
    existing   jsonb := '[]';
BEGIN
    IF v_origin IS NULL OR v_origin !~ '^docx-sha256:[0-9a-f]{64}$' THEN
        RAISE EXCEPTION 'origin of a .docx import must be docx-sha256:<hex>'
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO media (school_id, sha256, content_type, data, created_by)
    SELECT v_school, im->>'sha256', im->>'content_type', decode(im->>'data', 'base64'), v_actor
      FROM jsonb_array_elements(coalesce(plan->'images', '[]')) im
    ON CONFLICT (school_id, sha256) DO NOTHING;
    GET DIAGNOSTICS n_media = ROW_COUNT;

    FOR it IN SELECT * FROM jsonb_array_elements(coalesce(plan->'items', '[]')) LOOP
        SELECT i.id INTO v_id FROM items i
         WHERE i.province_id = v_province AND i.school_id IS NOT DISTINCT FROM v_school
           AND i.origin = v_origin AND i.identifier = it->>'identifier';
        IF FOUND THEN
            existing := existing || jsonb_build_object('id', v_id, 'identifier',
                it->>'identifier', 'number', it->'number', 'part', it->'part');
            CONTINUE;
        END IF;
        INSERT INTO items (province_id, school_id, origin, identifier, subject, grade,
                           status, current_version, created_by)
        VALUES (v_province, v_school, v_origin, it->>'identifier', plan->>'subject',
                (plan->>'grade')::smallint, 'draft', 1, v_actor)
        RETURNING id INTO v_id;
        INSERT INTO item_versions (item_id, version, province_id, school_id, kind, title,
                                   content, scoring, tags, search_text, created_by)
        VALUES (v_id, 1, v_province, v_school, it->>'kind', it->>'title', it->'content',
                it->'scoring', ARRAY(SELECT jsonb_array_elements_text(coalesce(it->'tags', '[]'))),
                it->>'search_text', v_actor);
        INSERT INTO item_assets (item_id, version, school_id, province_id, path, content_type,
                                 data)
        SELECT v_id, 1, v_school, v_province, m.path, m.content_type, m.data
          FROM media m
         WHERE m.school_id = v_school
           AND m.path IN (SELECT jsonb_array_elements_text(coalesce(it->'media', '[]')));
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n <> jsonb_array_length(coalesce(it->'media', '[]')) THEN
            RAISE EXCEPTION 'a picture of question % is missing', it->>'identifier'
                USING ERRCODE = 'check_violation';
        END IF;
        n_assets := n_assets + n;
        INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)
        VALUES (v_school, v_actor, 'item.import', 'item', v_id::text,
                jsonb_build_object('identifier', it->>'identifier', 'origin', v_origin,
                                   'version', 1, 'status', 'draft', 'source', 'docx',
                                   'number', it->'number', 'part', it->'part'));
        imported := imported || jsonb_build_object('id', v_id, 'identifier', it->>'identifier',
            'number', it->'number', 'part', it->'part', 'version', 1, 'status', 'draft');
    END LOOP;

    RETURN jsonb_build_object('origin', v_origin, 'imported', imported, 'existing', existing,
                              'media', n_media, 'assets', n_assets);
END
$$;
GRANT EXECUTE ON FUNCTION kt_import_docx(jsonb) TO kiemtra_app;
