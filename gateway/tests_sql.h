/*
 * SQL shared by the tests API and the demo loader: creating a draft test and
 * storing what publishing assembled (the test becomes published, its items
 * and forms are written, an audit row is added), only if it is still a draft.
 */
#ifndef KT_TESTS_SQL_H
#define KT_TESTS_SQL_H

/* $1 school, $2 province, $3 title, $4 subject, $5 grade, $6 kind,
 * $7 duration_seconds, $8 forms, $9 blueprint, $10 author -> id */
#define KT_SQL_TEST_CREATE \
    "INSERT INTO tests (school_id, province_id, title, subject, grade, kind, duration_seconds," \
    " forms, blueprint, created_by) VALUES ($1::bigint, $2::bigint, $3, $4, $5::smallint, $6," \
    " $7::integer, $8::smallint, $9::jsonb, $10::bigint) RETURNING id"

/* $1 test, $2 seed, $3 total points (hundredths), $4 publisher,
 * $5 test_items rows, $6 test_forms rows -> (tests updated, items, forms) */
#define KT_SQL_PUBLISH_STORE \
    "WITH u AS (UPDATE tests SET status = 'published', seed = $2::bigint," \
    "   total_points = $3::integer, published_by = $4::bigint, published_at = now()" \
    "  WHERE id = $1::bigint AND status = 'draft' RETURNING id, school_id)," \
    " ti AS (INSERT INTO test_items (test_id, item_ref, school_id, item_id, version, cell, part," \
    "   points) SELECT u.id, x.ref, u.school_id, x.item, x.version, x.cell, x.part, x.points" \
    "  FROM u, jsonb_to_recordset($5::jsonb) AS x(ref text, item bigint, version integer," \
    "   cell smallint, part smallint, points integer) RETURNING 1)," \
    " tf AS (INSERT INTO test_forms (test_id, school_id, form_index, code, seed, payload)" \
    "  SELECT u.id, u.school_id, x.idx, x.code, x.seed, x.payload" \
    "  FROM u, jsonb_to_recordset($6::jsonb) AS x(idx smallint, code text, seed bigint," \
    "   payload jsonb) RETURNING 1)," \
    " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)" \
    "  SELECT u.school_id, $4::bigint, 'test.publish', 'test', u.id::text," \
    "   jsonb_build_object('seed', $2::text, 'total_points', $3::integer) FROM u RETURNING 1)" \
    " SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM ti), (SELECT count(*) FROM tf)"

#endif
