/*
 * json.h - a small strict JSON reader for the CONNECT and INFO objects.
 *
 * It reads one JSON object (RFC 8259) into a flat array of its top-level
 * members with typed values.  Nested objects and arrays are validated (to a
 * bounded depth) and kept as raw text; the core never needs to look inside
 * them.  Where nats-server's Go decoder is lenient, so is this reader:
 * invalid UTF-8 and lone surrogates inside strings become U+FFFD instead of
 * failing, and lookups match keys the way Go matches struct fields.
 *
 * Ownership: mn_json_parse makes one allocation that holds the member array
 * and every string it points to (keys, string values, raw spans), so the
 * input text may be freed right after parsing.  mn_json_free releases it;
 * every pointer obtained from the mn_json dies with it.
 */
#ifndef MN_JSON_H
#define MN_JSON_H

#include "mn.h"

#define MN_JSON_MAX_DEPTH 64   /* nesting limit for skipped values */

typedef enum mn_json_type {
    MN_JSON_NULL = 0,
    MN_JSON_BOOL,
    MN_JSON_NUMBER,
    MN_JSON_STRING,
    MN_JSON_OBJECT,
    MN_JSON_ARRAY,
} mn_json_type;

typedef struct mn_json_member {
    const char  *key;      size_t key_len;   /* unescaped UTF-8 */
    mn_json_type type;
    /* STRING: the unescaped UTF-8 value.  NUMBER, OBJECT, ARRAY: the raw
     * JSON text of the value.  Always NUL-terminated (a string may also
     * hold a NUL of its own from \u0000; trust str_len).  NULL for BOOL
     * and NULL. */
    const char  *str;      size_t str_len;
    bool         b;        /* BOOL */
    bool         is_int;   /* NUMBER: no fraction or exponent, fits int64 */
    int64_t      i;        /* NUMBER with is_int */
    double       d;        /* NUMBER */
} mn_json_member;

typedef struct mn_json {
    mn_json_member *members;   /* in document order, duplicates kept */
    size_t          count;
    /* when mn_json_parse returns MN_EINVAL: what was wrong (static text)
     * and the byte offset in the input where it was found */
    const char     *err;
    size_t          err_pos;
} mn_json;

/* Parse text[0..len), which must be exactly one JSON object, optionally
 * surrounded by whitespace.  Returns MN_OK, MN_EINVAL (j->err, j->err_pos
 * set, nothing to free) or MN_ENOMEM.  On MN_OK, call mn_json_free. */
int  mn_json_parse(mn_json *j, const char *text, size_t len);
void mn_json_free(mn_json *j);

/* The member named key, or NULL.  As Go's encoding/json does when filling
 * a struct, names match ASCII case-insensitively and the last one wins. */
const mn_json_member *mn_json_find(const mn_json *j, const char *key);

/* Typed lookups.  MN_OK and *val set (and *len, unless len is NULL);
 * MN_ENOTFOUND when the member is absent or null (Go leaves such a field
 * untouched); MN_EINVAL when it has another type (or, for int, is not an
 * integer within int64).  Strings stay valid until mn_json_free. */
int mn_json_get_str(const mn_json *j, const char *key,
                    const char **val, size_t *len);
int mn_json_get_bool(const mn_json *j, const char *key, bool *val);
int mn_json_get_int(const mn_json *j, const char *key, int64_t *val);

#endif
