/*
 * PATCH /api/v1/items/{id} with {"max_score": N, "version": V}: a teacher
 * states the maximum score of a version (default the current one) of an
 * imported QTI item whose response processing does not give one
 * (publishing refuses such an item until then). One statement checks the item, writes the statement
 * and its audit row; the reply is the item view, which shows it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "decimal.h"

#define MAX_STATED 100000

static const struct pg_stmt_def item_max_stmts[] = {
    /* $1 item, $2 caller's school, $3 maximum, $4 version (NULL: the
     * current one), $5 actor. Returns the item's school, kind, status and
     * version, and whether the statement was written. */
    {"item_max_state",
     "WITH i AS (SELECT i.id, i.school_id, i.subject, v.version, i.status::text AS status,"
     "   v.kind FROM items i JOIN item_versions v ON v.item_id = i.id"
     "   AND v.version = coalesce($4::integer, i.current_version) WHERE i.id = $1::bigint"
     "   FOR UPDATE OF i),"
     " ok AS (SELECT * FROM i WHERE i.school_id = $2::bigint AND i.kind = 'QTI'"
     "   AND i.status <> 'retired' AND kt_require_subject(i.subject)),"  /* 0021 */
     " old AS (SELECT trim_scale(m.max_score)::text AS v FROM item_max_scores m"
     "   JOIN ok ON m.item_id = ok.id AND m.version = ok.version),"
     " w AS (INSERT INTO item_max_scores (item_id, version, school_id, max_score, stated_by)"
     "   SELECT id, version, school_id, $3::numeric, $5::bigint FROM ok"
     "   ON CONFLICT (item_id, version) DO UPDATE SET max_score = EXCLUDED.max_score,"
     "    stated_by = EXCLUDED.stated_by, stated_at = now() RETURNING item_id),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value,"
     "   new_value) SELECT ok.school_id, $5::bigint, 'item.max_score', 'item', ok.id::text,"
     "   jsonb_build_object('version', ok.version, 'max_score', (SELECT v FROM old)),"
     "   jsonb_build_object('version', ok.version, 'max_score', trim_scale($3::numeric)::text)"
     "   FROM ok JOIN w ON w.item_id = ok.id RETURNING 1)"
     " SELECT i.school_id, i.kind, i.status, i.version, (SELECT count(*) FROM a) FROM i"},
};

void
kt_item_max_register(void)
{
    pg_register_statements(item_max_stmts,
                           (int)(sizeof(item_max_stmts) / sizeof(item_max_stmts[0])));
}

static void
bad_field(http_request *req, const char *field, const char *message)
{
    api_error_details(req, 422, "invalid_item", "Điểm tối đa chưa hợp lệ (xem chi tiết).",
                      json_pack("[{s:s,s:s}]", "field", field, "message", message));
}

static void
stated(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error_doing(req, q, "sửa điểm tối đa của câu hỏi môn này");
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy câu hỏi hoặc phiên bản yêu cầu.");
        return;
    }
    const char *school = pg_value(q, 0, 0, 0), *kind = pg_value(q, 0, 0, 1),
               *status = pg_value(q, 0, 0, 2), *written = pg_value(q, 0, 0, 4);
    if (!school || strtoll(school, NULL, 10) != req->user->school_id) {
        api_error(req, 403, "forbidden",
                  "Câu hỏi dùng chung của Sở chỉ được xem, trường không được sửa.");
    } else if (strcmp(kind, "QTI") != 0) {
        bad_field(req, "max_score",
                  "Chỉ câu hỏi QTI nhập vào mới cần ghi điểm tối đa; câu hỏi soạn trên hệ thống "
                  "đã có điểm theo dạng câu.");
    } else if (strcmp(status, "retired") == 0) {
        api_error(req, 409, "invalid_transition", "Câu hỏi đã ngừng sử dụng nên không sửa được.");
    } else if (strcmp(written, "1") != 0) {
        api_error(req, 500, "internal", "Không ghi được điểm tối đa; hãy thử lại.");
    } else {
        const char *j = pg_ntuples(q, 1) ? pg_value(q, 1, 0, 0) : NULL;
        if (j)
            api_raw_json(req, 200, j, strlen(j));
        else
            api_error(req, 404, "not_found", "Không tìm thấy câu hỏi.");
    }
}

void
kt_item_max_patch(http_request *req, json_t *body)
{
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        if (strcmp(k, "max_score") != 0 && strcmp(k, "version") != 0) {
            bad_field(req, k,
                      "Khi ghi điểm tối đa (max_score) chỉ gửi kèm version; sửa các trường khác "
                      "trong một yêu cầu riêng.");
            json_decref(body);
            return;
        }
    }
    json_t *m = json_object_get(body, "max_score"), *ver = json_object_get(body, "version");
    kt_decimal d;
    char num[40];
    if (!json_is_number(m) || kt_decimal_from_double(json_number_value(m), &d) < 0 ||
        d.units <= 0 || d.units > (int64_t)MAX_STATED * KT_DECIMAL_SCALE ||
        kt_decimal_round(d, 2).units != d.units) {
        bad_field(req, "max_score",
                  "Điểm tối đa phải là một số dương, tối đa 100000, nhiều nhất hai chữ số thập "
                  "phân (ví dụ 3 hoặc 2.5).");
        json_decref(body);
        return;
    }
    if (ver && (!json_is_integer(ver) || json_integer_value(ver) < 1 ||
                json_integer_value(ver) > 1000000)) {
        bad_field(req, "version", "Phải là số phiên bản (số nguyên dương) của câu hỏi.");
        json_decref(body);
        return;
    }
    kt_decimal_format(d, '.', num, sizeof(num));
    char id[24], school[24], vs[24], actor[24];
    snprintf(id, sizeof(id), "%lld", (long long)api_param_id(req, 0));
    snprintf(school, sizeof(school), "%lld", (long long)req->user->school_id);
    snprintf(vs, sizeof(vs), "%lld", (long long)json_integer_value(ver));
    snprintf(actor, sizeof(actor), "%lld", (long long)req->user->id);
    json_decref(body);
    const char *p[] = {id, school, num, ver ? vs : NULL, actor};
    pg_query *q = api_query(req);
    pg_query_add(q, "item_max_state", 5, p);
    const char *gp[] = {id, ver ? vs : NULL};
    pg_query_add(q, "item_get", 2, gp);
    api_run(req, q, stated);
}
