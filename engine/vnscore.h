/*
 * Scoring of the Vietnamese item formats (the authoring shape of
 * itembank/item.c): MCQ4, MR (all-or-nothing or per option), TF4 (Đúng/Sai
 * cluster through a score table), SHORT (number with tolerance and decimal
 * comma, or normalised text) and ESSAY (manual). Exact decimals only.
 */
#ifndef KT_VNSCORE_H
#define KT_VNSCORE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "decimal.h"

typedef enum { KT_VN_MCQ4, KT_VN_MR, KT_VN_TF4, KT_VN_SHORT, KT_VN_ESSAY } kt_vn_kind;

typedef struct {
    kt_vn_kind kind;
    char key;                  /* MCQ4: 'A'..'D' */
    char keys[9];              /* MR: the right option letters, NUL-terminated */
    bool per_option;           /* MR: scoring_mode "per_option"; default all-or-nothing */
    bool statement_keys[4];    /* TF4: a, b, c, d (true = Đúng) */
    kt_decimal score_table[5]; /* TF4: share of the item for 0..4 statements right */
    bool numeric;              /* SHORT: answer_type numeric (the default for a numeric key) */
    kt_decimal key_number, tolerance; /* SHORT numeric */
    const char *key_text;      /* SHORT text: points into the scoring JSON */
} kt_vn_scoring;

typedef enum {
    KT_VN_SCORED,
    KT_VN_MANUAL /* ESSAY: needs manual marking, fraction and points are 0 */
} kt_vn_status;

typedef struct {
    kt_vn_status status;
    kt_decimal fraction; /* share of the item's points, 0..1 */
    kt_decimal points;   /* fraction x item points, rounded half up to hundredths */
    int right;           /* TF4: statements right; MR: right options chosen; else 0 or 1 */
} kt_vn_result;

/* The scoring fields of one item (kt_item_split's "scoring" object, or the
 * whole authoring object) for kind "MCQ4", "MR", "TF4", "SHORT" or "ESSAY".
 * TF4 statement keys come from "statement_keys" {"a":true,...} or from
 * "statements"[i].key; a missing score_table is 0/0.1/0.25/0.5/1. Returns
 * 0, or -1 with a Vietnamese message in err. out->key_text borrows from
 * scoring. */
int kt_vn_scoring_from_json(const char *kind, const json_t *scoring, kt_vn_scoring *out,
                            char *err, size_t errsize);

/* Scores one response: MCQ4 "A"; MR ["A","C"]; TF4 {"a":true,"b":false,...}
 * or [true,false,null,true]; SHORT "1,5", "1.5" or a JSON number, or text;
 * NULL (or JSON null) is no answer and scores 0. Returns 0, or -1 with err
 * set when the response has the wrong shape. */
int kt_vn_score(const kt_vn_scoring *s, const json_t *response, kt_decimal item_points,
                kt_vn_result *out, char *err, size_t errsize);

#endif
