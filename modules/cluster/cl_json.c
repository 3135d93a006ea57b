/*
 * cl_json.c - the little JSON the route protocol needs: read a few
 * top-level keys of an INFO or CONNECT object, and escape strings we
 * write.  Not a general parser: values of other keys are skipped
 * structurally (strings with escapes, nested objects and arrays).
 */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return p;
}

/* p at '"': past the closing quote, or NULL. */
static const char *skip_string(const char *p)
{
    for (p++; *p; p++) {
        if (*p == '\\') {
            if (!*++p)
                return NULL;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return NULL;
}

static const char *skip_value(const char *p)
{
    p = ws(p);
    if (*p == '"')
        return skip_string(p);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (*p) {
            if (*p == '"') {
                if (!(p = skip_string(p)))
                    return NULL;
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if (*p == '}' || *p == ']') {
                if (--depth == 0)
                    return p + 1;
            }
            p++;
        }
        return NULL;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']')
        p++;
    return p;
}

/* Decode a JSON string at p ('"') into a malloc'd C string. */
static char *decode_string(const char *p)
{
    const char *end = skip_string(p);
    if (!end)
        return NULL;
    char *out = malloc((size_t)(end - p));
    if (!out)
        return NULL;
    size_t n = 0;
    for (p++; p < end - 1; p++) {
        if (*p != '\\') {
            out[n++] = *p;
            continue;
        }
        p++;
        switch (*p) {
        case 'n': out[n++] = '\n'; break;
        case 't': out[n++] = '\t'; break;
        case 'r': out[n++] = '\r'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'u': {
            unsigned v = 0;
            if (sscanf(p + 1, "%4x", &v) != 1) {
                free(out);
                return NULL;
            }
            p += 4;
            /* UTF-8 for the BMP; surrogates are not expected in INFO. */
            if (v < 0x80) {
                out[n++] = (char)v;
            } else if (v < 0x800) {
                out[n++] = (char)(0xC0 | (v >> 6));
                out[n++] = (char)(0x80 | (v & 0x3F));
            } else {
                out[n++] = '?';
            }
            break;
        }
        default: out[n++] = *p; break;
        }
    }
    out[n] = 0;
    return out;
}

/* The value of a top-level key, or NULL. */
static const char *find_key(const char *json, const char *key)
{
    const char *p = ws(json);
    if (*p != '{')
        return NULL;
    p++;
    size_t kl = strlen(key);
    for (;;) {
        p = ws(p);
        if (*p != '"')
            return NULL;
        const char *kend = skip_string(p);
        if (!kend)
            return NULL;
        bool match = (size_t)(kend - p - 2) == kl && memcmp(p + 1, key, kl) == 0;
        p = ws(kend);
        if (*p != ':')
            return NULL;
        p = ws(p + 1);
        if (match)
            return p;
        if (!(p = skip_value(p)))
            return NULL;
        p = ws(p);
        if (*p != ',')
            return NULL;
        p++;
    }
}

bool cl_json_string(const char *json, const char *key, char **out)
{
    const char *v = find_key(json, key);
    if (!v || *v != '"')
        return false;
    char *s = decode_string(v);
    if (!s)
        return false;
    *out = s;
    return true;
}

bool cl_json_int(const char *json, const char *key, int64_t *out)
{
    const char *v = find_key(json, key);
    if (!v || !((*v >= '0' && *v <= '9') || *v == '-'))
        return false;
    *out = strtoll(v, NULL, 10);
    return true;
}

bool cl_json_bool(const char *json, const char *key, bool *out)
{
    const char *v = find_key(json, key);
    if (!v)
        return false;
    if (strncmp(v, "true", 4) == 0)
        *out = true;
    else if (strncmp(v, "false", 5) == 0)
        *out = false;
    else
        return false;
    return true;
}

bool cl_json_strings(const char *json, const char *key, char ***out, size_t *n)
{
    const char *p = find_key(json, key);
    *out = NULL;
    *n = 0;
    if (!p || *p != '[')
        return false;
    char **v = NULL;
    size_t cnt = 0;
    p = ws(p + 1);
    while (*p == '"') {
        char *s = decode_string(p);
        char **nv = s ? realloc(v, (cnt + 1) * sizeof(*v)) : NULL;
        if (!nv) {
            free(s);
            cl_strv_free(v, cnt);
            return false;
        }
        v = nv;
        v[cnt++] = s;
        p = ws(skip_string(p));
        if (*p == ',')
            p = ws(p + 1);
    }
    *out = v;
    *n = cnt;
    return true;
}

void cl_json_escape(char *dst, size_t cap, const char *s)
{
    size_t n = 0;
    if (cap < 3) {
        if (cap)
            dst[0] = 0;
        return;
    }
    dst[n++] = '"';
    for (; s && *s && n + 8 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            dst[n++] = '\\';
            dst[n++] = (char)ch;
        } else if (ch < 0x20) {
            n += (size_t)snprintf(dst + n, cap - n, "\\u%04x", ch);
        } else {
            dst[n++] = (char)ch;
        }
    }
    dst[n++] = '"';
    dst[n] = 0;
}

void cl_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

bool cl_json_object(const char *json, const char *key, char **out)
{
    const char *v = find_key(json, key);
    if (!v || *v != '{')
        return false;
    const char *end = skip_value(v);
    if (!end)
        return false;
    *out = strndup(v, (size_t)(end - v));
    return *out != NULL;
}
