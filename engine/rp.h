/*
 * QTI response and template processing: the compiled form of an item
 * (declarations, rules and expressions as plain structs, built by
 * itembank/rp_compile.c), its evaluator, and the item session that runs
 * template processing from a seed, takes responses and runs one attempt.
 * Anything the evaluator does not implement is an "unsupported: <element>"
 * error, never a silent drop.
 */
#ifndef KT_RP_H
#define KT_RP_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "prng.h"
#include "qti_value.h"

/* ---- declarations ------------------------------------------------------- */

typedef enum { KT_RP_RESPONSE, KT_RP_OUTCOME, KT_RP_TEMPLATE } kt_rp_var_kind;

typedef struct {
    kt_qv_scalar key; /* of the response's base type */
    double value;
    bool case_sensitive; /* string keys only */
} kt_rp_map_entry;

typedef struct {
    bool present;
    bool has_lower, has_upper;
    double lower, upper, default_value;
    kt_rp_map_entry *entries;
    size_t nentries;
} kt_rp_mapping;

typedef enum {
    KT_RP_SHAPE_DEFAULT,
    KT_RP_SHAPE_RECT,
    KT_RP_SHAPE_CIRCLE,
    KT_RP_SHAPE_POLY,
    KT_RP_SHAPE_ELLIPSE
} kt_rp_shape;

typedef struct {
    kt_rp_shape shape;
    double *coords; /* rect x1 y1 x2 y2; circle x y r; ellipse x y rx ry; poly x y ... */
    size_t ncoords;
} kt_rp_area;

typedef struct {
    kt_rp_area area;
    double value;
} kt_rp_area_entry;

typedef struct {
    bool present;
    bool has_lower, has_upper;
    double lower, upper, default_value;
    kt_rp_area_entry *entries;
    size_t nentries;
} kt_rp_area_mapping;

typedef enum { KT_RP_TABLE_NONE, KT_RP_TABLE_MATCH, KT_RP_TABLE_INTERPOLATION } kt_rp_table_kind;

typedef struct {
    double source; /* matchTable: an integer; interpolationTable: the lower bound */
    bool include_boundary;
    kt_qv target;
} kt_rp_table_entry;

typedef struct {
    kt_rp_table_kind kind;
    kt_rp_table_entry *entries;
    size_t nentries;
    kt_qv default_value; /* NULL when absent */
} kt_rp_lookup_table;

typedef struct {
    const char *identifier;
    kt_rp_var_kind kind;
    kt_qv_card card;
    kt_qv_base base;
    kt_qv default_value; /* NULL when not declared */
    kt_qv correct;       /* responses: correctResponse, NULL when not declared */
    kt_rp_mapping mapping;
    kt_rp_area_mapping area_mapping;
    kt_rp_lookup_table table; /* outcomes: matchTable or interpolationTable */
    bool has_normal_min, has_normal_max; /* outcomes: normalMinimum/normalMaximum */
    double normal_min, normal_max;
    int max_values; /* responses: most values its interaction takes (maxChoices...), 0 any */
} kt_rp_decl;

/* ---- expressions -------------------------------------------------------- */

typedef enum {
    /* values */
    KT_RP_BASE_VALUE,
    KT_RP_VARIABLE,
    KT_RP_CORRECT,
    KT_RP_DEFAULT,
    KT_RP_NULL,
    KT_RP_MAP_RESPONSE,
    KT_RP_MAP_RESPONSE_POINT,
    KT_RP_RANDOM_INTEGER,
    KT_RP_RANDOM_FLOAT,
    KT_RP_MATH_CONSTANT,
    /* logic */
    KT_RP_IS_NULL,
    KT_RP_AND,
    KT_RP_OR,
    KT_RP_NOT,
    KT_RP_ANY_N,
    /* containers */
    KT_RP_MULTIPLE,
    KT_RP_ORDERED,
    KT_RP_CONTAINER_SIZE,
    KT_RP_MEMBER,
    KT_RP_CONTAINS,
    KT_RP_DELETE,
    KT_RP_INDEX,
    KT_RP_FIELD_VALUE,
    KT_RP_RANDOM,
    KT_RP_REPEAT,
    /* comparison */
    KT_RP_MATCH,
    KT_RP_EQUAL,
    KT_RP_EQUAL_ROUNDED,
    KT_RP_GT,
    KT_RP_GTE,
    KT_RP_LT,
    KT_RP_LTE,
    KT_RP_DURATION_LT,
    KT_RP_DURATION_GTE,
    KT_RP_STRING_MATCH,
    KT_RP_SUBSTRING,
    KT_RP_PATTERN_MATCH,
    KT_RP_INSIDE,
    /* arithmetic */
    KT_RP_SUM,
    KT_RP_PRODUCT,
    KT_RP_SUBTRACT,
    KT_RP_DIVIDE,
    KT_RP_POWER,
    KT_RP_INTEGER_DIVIDE,
    KT_RP_INTEGER_MODULUS,
    KT_RP_INTEGER_TO_FLOAT,
    KT_RP_ROUND,
    KT_RP_ROUND_TO,
    KT_RP_TRUNCATE,
    KT_RP_MIN,
    KT_RP_MAX,
    KT_RP_GCD,
    KT_RP_LCM,
    KT_RP_STATS_OPERATOR,
    KT_RP_MATH_OPERATOR,
    /* test level (outcome processing over item results) */
    KT_RP_NUMBER_CORRECT,
    KT_RP_NUMBER_INCORRECT,
    KT_RP_NUMBER_RESPONDED,
    KT_RP_NUMBER_PRESENTED,
    KT_RP_NUMBER_SELECTED,
    KT_RP_TEST_VARIABLES,
    KT_RP_OUTCOME_MINIMUM,
    KT_RP_OUTCOME_MAXIMUM,
    /* anything else: evaluating it is an error naming the element */
    KT_RP_UNSUPPORTED
} kt_rp_op;

/* An attribute that is a number or a {VARIABLE} reference. */
typedef struct {
    double number;
    int var; /* declaration index, or -1 for the number */
} kt_rp_num_ref;

typedef enum { KT_RP_TOL_EXACT, KT_RP_TOL_ABSOLUTE, KT_RP_TOL_RELATIVE } kt_rp_tolerance_mode;
typedef enum { KT_RP_ROUND_SIGNIFICANT, KT_RP_ROUND_DECIMAL } kt_rp_rounding_mode;

/* Item-selection attributes of the test-level expressions. */
typedef struct {
    const char *section;               /* sectionIdentifier, NULL for all */
    const char **include, **exclude;   /* categories */
    size_t ninclude, nexclude;
    const char *outcome;               /* outcomeIdentifier / variableIdentifier */
    const char *weight;                /* weightIdentifier, NULL for none */
    int base;                          /* testVariables baseType filter, -1 for none */
} kt_rp_items_filter;

typedef struct kt_rp_expr {
    kt_rp_op op;
    const char *element; /* the QTI 2 element name, for messages */
    struct kt_rp_expr *args;
    size_t nargs;
    int var;    /* identifier attribute: declaration index, -1 when undeclared */
    kt_qv value; /* baseValue */
    bool case_sensitive, substring, include_lower, include_upper;
    kt_rp_tolerance_mode tolerance_mode;
    kt_rp_num_ref tolerance[2]; /* lower, upper; upper.number NaN (var -1): same as lower */
    kt_rp_rounding_mode rounding_mode;
    kt_rp_num_ref figures, n, min, max, step; /* equalRounded/roundTo, index/repeat, anyN, random */
    const char *name; /* fieldIdentifier, mathOperator/statsOperator/mathConstant name */
    kt_rp_area area;  /* inside */
    const char *pattern; /* patternMatch as written, for a {VAR} pattern */
    int pattern_var;     /* {VAR} pattern, else -1 */
    regex_t *regex;      /* patternMatch with a literal pattern, compiled once */
    kt_rp_items_filter filter;
    const char *identifier; /* the identifier attribute as written (even when undeclared) */
    long line;              /* in the item document, for messages; 0 when unknown */
} kt_rp_expr;

/* ---- rules ------------------------------------------------------------------- */

typedef enum {
    KT_RP_CONDITION,        /* responseCondition, templateCondition, outcomeCondition */
    KT_RP_SET_OUTCOME,      /* setOutcomeValue */
    KT_RP_LOOKUP_OUTCOME,   /* lookupOutcomeValue */
    KT_RP_SET_TEMPLATE,     /* setTemplateValue */
    KT_RP_SET_CORRECT,      /* setCorrectResponse */
    KT_RP_SET_DEFAULT,      /* setDefaultValue */
    KT_RP_TEMPLATE_CONSTRAINT,
    KT_RP_EXIT,             /* exitResponse, exitTemplate, exitTest */
    KT_RP_RULE_UNSUPPORTED
} kt_rp_rule_kind;

struct kt_rp_rule;

typedef struct {
    kt_rp_expr *condition; /* NULL for the else branch */
    struct kt_rp_rule *rules;
    size_t nrules;
} kt_rp_branch;

typedef struct kt_rp_rule {
    kt_rp_rule_kind kind;
    const char *element;
    int var;          /* the variable set */
    kt_rp_expr *expr; /* its value, or the constraint */
    kt_rp_branch *branches;
    size_t nbranches;
    const char *identifier; /* the identifier attribute as written (even when undeclared) */
    long line;              /* in the item document, for messages; 0 when unknown */
} kt_rp_rule;

/* ---- compiled item -------------------------------------------------------- */

/* A compiled patternMatch pattern, chained so the item can free them all. */
typedef struct kt_rp_regex {
    regex_t re;
    struct kt_rp_regex *next;
} kt_rp_regex;

typedef struct {
    kt_arena *arena; /* owns everything below */
    const char *identifier;
    bool adaptive;
    kt_rp_decl *decls; /* responses, outcomes, templates, then missing built-ins */
    size_t ndecls;
    int num_attempts, duration, completion_status; /* built-in variables */
    kt_rp_rule *template_rules;
    size_t ntemplate_rules;
    kt_rp_rule *response_rules;
    size_t nresponse_rules;
    kt_rp_regex *regexes; /* every compiled pattern, freed with the item */
} kt_rp_item;

/* Index of a declaration, or -1. */
int kt_rp_find(const kt_rp_item *item, const char *identifier);
void kt_rp_item_free(kt_rp_item *item);

/* ---- item session ------------------------------------------------------------ */

typedef struct {
    const kt_rp_item *item;
    kt_arena *arena[2];   /* values of the current attempt and a spare */
    int cur;              /* which arena holds the values */
    kt_qv *values;        /* one per declaration */
    kt_qv *correct;       /* correct responses (setCorrectResponse can change them) */
    kt_qv *defaults;      /* default values (setDefaultValue can change them) */
    kt_prng prng;
    char error[256];      /* the last error, "" when none */
} kt_rp_session;

/* Template processing with seed (a no-op without templateProcessing), then
 * every variable at its default: responses to their defaultValue or NULL,
 * outcomes to their defaultValue, else 0 for single integer/float ones,
 * else NULL; numAttempts 0, completionStatus "not_attempted". Returns 0, or
 * -1 with s->error set when template processing failed. */
int kt_rp_session_init(kt_rp_session *s, const kt_rp_item *item, uint64_t seed);
void kt_rp_session_free(kt_rp_session *s);

/* A response from its QTI string forms (n == 0 submits NULL). Returns 0, or
 * -1 with s->error set: unknown response, or a value that is not of the
 * declared base type (an integer response given "16.0" is refused). */
int kt_rp_session_set_response(kt_rp_session *s, const char *identifier,
                               const char *const *strs, size_t n);
/* A response as a value (deep-copied). */
int kt_rp_session_set_value(kt_rp_session *s, const char *identifier, const kt_qv *v);
/* The duration built-in, in seconds, before an attempt. */
void kt_rp_session_set_duration(kt_rp_session *s, double seconds);

/* One attempt: numAttempts + 1, outcomes reset to their defaults (not for
 * adaptive items, whose outcomes carry over), response processing, then
 * completionStatus "completed" for non-adaptive items. Returns 0, or -1
 * with s->error set ("unsupported: customOperator", a type error...); the
 * outcomes are then those reached before the error. */
int kt_rp_session_attempt(kt_rp_session *s);

/* A variable's current value, or NULL when undeclared. Valid until the
 * next call that changes the session. */
const kt_qv *kt_rp_session_get(const kt_rp_session *s, const char *identifier);

/* ---- test level ---------------------------------------------------------------- */

/* One item of a test as outcome processing sees it. */
typedef struct {
    const char *identifier;           /* the assessmentItemRef identifier */
    const char *const *sections;      /* identifiers of the enclosing sections */
    size_t nsections;
    const char *const *categories;
    size_t ncategories;
    const char *const *weight_ids;    /* the item ref's weights */
    const double *weights;
    size_t nweights;
    const kt_rp_session *session; /* NULL when the item was not presented */
} kt_rp_test_item;

/* Evaluates an expression of test-level outcome processing (numberCorrect,
 * testVariables, outcomeMaximum... and every item-level operator) over the
 * test's own variables (values, parallel to decls) and its items. Values
 * are allocated in arena. Returns 0 with *out set, or -1 with err set. */
int kt_rp_eval_test(const kt_rp_expr *e, const kt_rp_decl *decls, size_t ndecls,
                    const kt_qv *values, const kt_rp_test_item *items, size_t nitems,
                    kt_arena *arena, kt_qv *out, char *err, size_t errsize);

#endif
