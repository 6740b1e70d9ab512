/*
 * Maximum scores of QTI items as JSON (maxscore.h): what engine/rp_maxscore.c
 * reads from the compiled item, and the items of a test to be published
 * whose maximum is unknown and not stated by a teacher.
 */
#include "maxscore.h"

#include <string.h>

#include "decimal.h"
#include "rp_compile.h"
#include "rp_maxscore.h"

json_t *
kt_item_max_json(const kt_rp_item *item)
{
    kt_rp_max m;
    kt_rp_max_score(item, &m);
    if (m.source == KT_RP_MAX_UNKNOWN)
        return json_pack("{s:n,s:s}", "value", "reason", m.reason);
    char v[40];
    kt_decimal d;
    if (kt_decimal_from_double(m.value, &d) < 0)
        return json_pack("{s:n,s:s}", "value", "reason", "Điểm tối đa quá lớn.");
    kt_decimal_format(d, '.', v, sizeof v);
    return json_pack("{s:s,s:s}", "value", v, "source", kt_rp_max_source_name(m.source));
}

json_t *
kt_item_max_score(const char *qti_xml)
{
    kt_qti_errors errs;
    kt_qti_errors_init(&errs);
    kt_rp_item *it =
        qti_xml ? kt_rp_compile(qti_xml, strlen(qti_xml), "item.xml", &errs, NULL) : NULL;
    json_t *out = it ? kt_item_max_json(it)
                     : json_pack("{s:n,s:s}", "value", "reason",
                                 errs.n ? errs.v[0].message : "Thiếu tài liệu QTI.");
    kt_rp_item_free(it);
    kt_qti_errors_free(&errs);
    return out;
}

json_t *
kt_item_max_missing(const json_t *rows, const json_t *items)
{
    json_t *missing = json_array(), *seen = json_object();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        json_int_t id = json_integer_value(json_object_get(row, "item"));
        const char *name;
        json_t *it;
        json_object_foreach((json_t *)items, name, it)
        {
            if (json_integer_value(json_object_get(it, "id")) != id)
                continue;
            if (json_object_get(seen, name) || json_is_string(json_object_get(it, "max_score")))
                break;
            json_object_set_new(seen, name, json_true());
            json_t *m = kt_item_max_score(json_string_value(json_object_get(it, "xml")));
            if (json_is_null(json_object_get(m, "value")))
                json_array_append_new(missing,
                                      json_pack("{s:I,s:s,s:O,s:O}", "item_id", id, "identifier",
                                                name, "version", json_object_get(it, "version"),
                                                "message", json_object_get(m, "reason")));
            json_decref(m);
            break;
        }
    }
    json_decref(seen);
    return missing;
}
