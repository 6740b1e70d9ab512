-- 0004: diacritic-insensitive item search and the review workflow.
--
-- search_text is the folded text of a version (title, stem, options and
-- statements with HTML/MathML tags stripped, lower case, no diacritics,
-- đ -> d), computed in C by itembank/item.c (kt_item_search_text) when the
-- version is written; search_folded is its tsvector for the GIN index. A
-- query is folded the same way in C, so "ham so" finds "hàm số" and back.
-- Rows written without search_text (older code paths) get an SQL
-- approximation from a trigger, which also backfills existing rows.
--
-- Review: draft -> submitted (who/when) -> approved (approved_by/at) or back
-- to draft with a comment (reviewed_by/at, review_comment) -> retired. Every
-- change is also written to audit_log.

-- Approximate fold for rows written without the C-folded text.
CREATE FUNCTION kt_search_fold(t text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT lower(translate(
        replace(replace(replace(replace(
            regexp_replace(coalesce(t, ''), '<[^>]*>', ' ', 'g'),
            '&lt;', '<'), '&gt;', '>'), '&amp;', '&'), '&nbsp;', ' '),
        'àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ'
        'ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ',
        'aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd'
        'aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd'))
    $$;

CREATE FUNCTION kt_item_version_search_text(title text, content jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT kt_search_fold(concat_ws(' ', title, content->>'stem',
        (SELECT string_agg(o->>'html', ' ') FROM jsonb_array_elements(
            CASE WHEN jsonb_typeof(content->'options') = 'array'
                 THEN content->'options' ELSE '[]'::jsonb END) o),
        (SELECT string_agg(s->>'html', ' ') FROM jsonb_array_elements(
            CASE WHEN jsonb_typeof(content->'statements') = 'array'
                 THEN content->'statements' ELSE '[]'::jsonb END) s)))
    $$;

ALTER TABLE item_versions ADD COLUMN search_text text;

CREATE FUNCTION kt_item_versions_search() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.search_text IS NULL OR NEW.search_text = '' THEN
        NEW.search_text := kt_item_version_search_text(NEW.title, NEW.content);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER item_versions_search BEFORE INSERT ON item_versions
    FOR EACH ROW EXECUTE FUNCTION kt_item_versions_search();

UPDATE item_versions SET search_text = kt_item_version_search_text(title, content)
 WHERE search_text IS NULL;
ALTER TABLE item_versions ALTER COLUMN search_text SET NOT NULL;

ALTER TABLE item_versions ADD COLUMN search_folded tsvector
    GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED;
CREATE INDEX item_versions_search_idx ON item_versions USING gin (search_folded);

ALTER TABLE items
    ADD COLUMN submitted_by   bigint REFERENCES users(id),
    ADD COLUMN submitted_at   timestamptz,
    ADD COLUMN reviewed_by    bigint REFERENCES users(id),
    ADD COLUMN reviewed_at    timestamptz,
    ADD COLUMN review_comment text;
