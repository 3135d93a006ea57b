/*
 * json.c - the strict JSON object reader declared in json.h.
 *
 * The input is read twice by the same recursive-descent code: a first pass
 * validates it and measures how many members and how many output bytes it
 * needs, a second pass fills the single block allocated from that.  Doing
 * the work twice is cheap for a CONNECT of a few hundred bytes and keeps the
 * ownership to one malloc and one free.
 */
#include "json.h"

#include <stdlib.h>
#include <string.h>

typedef struct jp {
    const char     *s;
    size_t          n, i;
    const char     *err;
    size_t          err_pos;
    char           *out;     /* NULL in the measuring pass */
    size_t          outlen;  /* bytes produced (or that would be) */
    mn_json_member *m;       /* NULL in the measuring pass */
    size_t          count;
} jp;

static bool jerr(jp *p, const char *msg)
{
    if (p->err == NULL) {
        p->err = msg;
        p->err_pos = p->i;
    }
    return false;
}

static void skip_ws(jp *p)
{
    while (p->i < p->n) {
        char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->i++;
    }
}

static void emit(jp *p, const void *src, size_t len)
{
    if (p->out)
        memcpy(p->out + p->outlen, src, len);
    p->outlen += len;
}

static void emit_utf8(jp *p, uint32_t cp)
{
    unsigned char b[4];
    size_t        n;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    emit(p, b, n);
}

#define REPLACEMENT 0xFFFD

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if it is not one
 * (overlong forms, surrogates and values past U+10FFFF are not). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t        len;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if (s[k] < 0x80 || s[k] > 0xBF)
            return 0;
    return len;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits after "\u" at p->i; advances past them. */
static bool read_hex4(jp *p, uint32_t *out)
{
    uint32_t v = 0;
    if (p->n - p->i < 4)
        return jerr(p, "invalid \\u escape");
    for (int k = 0; k < 4; k++) {
        int h = hexval(p->s[p->i + k]);
        if (h < 0)
            return jerr(p, "invalid \\u escape");
        v = v << 4 | (uint32_t)h;
    }
    p->i += 4;
    *out = v;
    return true;
}

/* A string at p->i (which is at its opening quote).  With keep, its
 * unescaped bytes and a NUL go to the output and *start / *len say where;
 * without, it is only validated. */
static bool parse_string(jp *p, bool keep, size_t *start, size_t *len)
{
    char  *saved_out = p->out;
    size_t saved_len = p->outlen, begin;
    if (!keep)
        p->out = NULL;   /* validate only: emit() just counts */
    begin = p->outlen;
    p->i++;              /* the opening quote */
    for (;;) {
        size_t run = p->i;
        while (p->i < p->n) {
            unsigned char c = (unsigned char)p->s[p->i];
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
                break;
            p->i++;
        }
        emit(p, p->s + run, p->i - run);
        if (p->i >= p->n) {
            p->out = saved_out;
            return jerr(p, "unterminated string");
        }
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == '"') {
            p->i++;
            break;
        }
        if (c < 0x20) {
            p->out = saved_out;
            return jerr(p, "control character in string");
        }
        if (c >= 0x80) {
            size_t ul = utf8_len((const unsigned char *)p->s + p->i, p->n - p->i);
            if (ul == 0) {
                emit_utf8(p, REPLACEMENT);
                p->i++;
            } else {
                emit(p, p->s + p->i, ul);
                p->i += ul;
            }
            continue;
        }
        /* an escape */
        if (p->i + 1 >= p->n) {
            p->out = saved_out;
            return jerr(p, "unterminated string");
        }
        char e = p->s[p->i + 1], ch;
        p->i += 2;
        switch (e) {
        case '"':  ch = '"';  break;
        case '\\': ch = '\\'; break;
        case '/':  ch = '/';  break;
        case 'b':  ch = '\b'; break;
        case 'f':  ch = '\f'; break;
        case 'n':  ch = '\n'; break;
        case 'r':  ch = '\r'; break;
        case 't':  ch = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (!read_hex4(p, &cp)) {
                p->out = saved_out;
                return false;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF && p->n - p->i >= 6 &&
                p->s[p->i] == '\\' && p->s[p->i + 1] == 'u') {
                size_t back = p->i;
                p->i += 2;
                if (!read_hex4(p, &lo)) {
                    p->out = saved_out;
                    return false;
                }
                if (lo >= 0xDC00 && lo <= 0xDFFF)
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                else
                    p->i = back;   /* not a pair: re-read it on its own */
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = REPLACEMENT;  /* a lone surrogate, as Go does */
            emit_utf8(p, cp);
            continue;
        }
        default:
            p->i -= 1;
            p->out = saved_out;
            return jerr(p, "invalid escape");
        }
        emit(p, &ch, 1);
    }
    emit(p, "", 1);
    if (keep) {
        *start = begin;
        *len = p->outlen - begin - 1;
    } else {
        p->out = saved_out;
        p->outlen = saved_len;
    }
    return true;
}

/* A number at p->i, per the RFC grammar.  *is_int when it has neither
 * fraction nor exponent and fits int64 (value in *iv). */
static bool parse_number(jp *p, bool *is_int, int64_t *iv)
{
    const char *s = p->s;
    size_t      i = p->i;
    bool        neg = false, integral = true, ovf = false;
    uint64_t    mag = 0;

    if (i < p->n && s[i] == '-') {
        neg = true;
        i++;
    }
    if (i >= p->n || s[i] < '0' || s[i] > '9') {
        p->i = i;
        return jerr(p, "invalid number");
    }
    if (s[i] == '0') {
        i++;
    } else {
        while (i < p->n && s[i] >= '0' && s[i] <= '9') {
            unsigned d = (unsigned)(s[i] - '0');
            if (mag > (UINT64_MAX - d) / 10)
                ovf = true;
            else
                mag = mag * 10 + d;
            i++;
        }
    }
    if (i < p->n && s[i] == '.') {
        integral = false;
        i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9') {
            p->i = i;
            return jerr(p, "invalid number");
        }
        while (i < p->n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < p->n && (s[i] == 'e' || s[i] == 'E')) {
        integral = false;
        i++;
        if (i < p->n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9') {
            p->i = i;
            return jerr(p, "invalid number");
        }
        while (i < p->n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    p->i = i;
    *is_int = false;
    *iv = 0;
    if (!integral || ovf)
        return true;
    if (neg) {
        if (mag <= (uint64_t)INT64_MAX + 1) {
            *iv = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
            *is_int = true;
        }
    } else if (mag <= (uint64_t)INT64_MAX) {
        *iv = (int64_t)mag;
        *is_int = true;
    }
    return true;
}

static bool parse_literal(jp *p, const char *word, size_t len)
{
    if (p->n - p->i < len || memcmp(p->s + p->i, word, len) != 0)
        return jerr(p, "invalid value");
    p->i += len;
    return true;
}

/* Validate any value at p->i without keeping it. */
static bool skip_value(jp *p, int depth)
{
    bool    is_int;
    int64_t iv;

    if (p->i >= p->n)
        return jerr(p, "unexpected end of input");
    switch (p->s[p->i]) {
    case '"':
        return parse_string(p, false, NULL, NULL);
    case 't':
        return parse_literal(p, "true", 4);
    case 'f':
        return parse_literal(p, "false", 5);
    case 'n':
        return parse_literal(p, "null", 4);
    case '{':
    case '[': {
        char close = p->s[p->i] == '{' ? '}' : ']';
        if (depth > MN_JSON_MAX_DEPTH)
            return jerr(p, "nesting too deep");
        p->i++;
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == close) {
            p->i++;
            return true;
        }
        for (;;) {
            if (close == '}') {
                if (p->i >= p->n || p->s[p->i] != '"')
                    return jerr(p, "expected string key");
                if (!parse_string(p, false, NULL, NULL))
                    return false;
                skip_ws(p);
                if (p->i >= p->n || p->s[p->i] != ':')
                    return jerr(p, "expected ':'");
                p->i++;
                skip_ws(p);
            }
            if (!skip_value(p, depth + 1))
                return false;
            skip_ws(p);
            if (p->i < p->n && p->s[p->i] == ',') {
                p->i++;
                skip_ws(p);
                continue;
            }
            if (p->i < p->n && p->s[p->i] == close) {
                p->i++;
                return true;
            }
            return jerr(p, close == '}' ? "expected ',' or '}'"
                                        : "expected ',' or ']'");
        }
    }
    default:
        if (p->s[p->i] == '-' || (p->s[p->i] >= '0' && p->s[p->i] <= '9'))
            return parse_number(p, &is_int, &iv);
        return jerr(p, "invalid value");
    }
}

/* One "key": value pair of the top-level object. */
static bool parse_member(jp *p)
{
    mn_json_member mm;
    size_t         kstart = 0, klen = 0, vstart = 0, vlen = 0;

    memset(&mm, 0, sizeof(mm));
    if (p->i >= p->n || p->s[p->i] != '"')
        return jerr(p, "expected string key");
    if (!parse_string(p, true, &kstart, &klen))
        return false;
    skip_ws(p);
    if (p->i >= p->n || p->s[p->i] != ':')
        return jerr(p, "expected ':'");
    p->i++;
    skip_ws(p);
    if (p->i >= p->n)
        return jerr(p, "unexpected end of input");

    size_t vbegin = p->i;
    char   c = p->s[p->i];
    if (c == '"') {
        mm.type = MN_JSON_STRING;
        if (!parse_string(p, true, &vstart, &vlen))
            return false;
    } else if (c == 't' || c == 'f') {
        mm.type = MN_JSON_BOOL;
        mm.b = c == 't';
        if (!parse_literal(p, mm.b ? "true" : "false", mm.b ? 4 : 5))
            return false;
    } else if (c == 'n') {
        mm.type = MN_JSON_NULL;
        if (!parse_literal(p, "null", 4))
            return false;
    } else {
        if (c == '{')
            mm.type = MN_JSON_OBJECT;
        else if (c == '[')
            mm.type = MN_JSON_ARRAY;
        else if (c == '-' || (c >= '0' && c <= '9'))
            mm.type = MN_JSON_NUMBER;
        else
            return jerr(p, "invalid value");
        if (mm.type == MN_JSON_NUMBER) {
            if (!parse_number(p, &mm.is_int, &mm.i))
                return false;
        } else if (!skip_value(p, 1)) {
            return false;
        }
        vstart = p->outlen;
        vlen = p->i - vbegin;
        emit(p, p->s + vbegin, vlen);
        emit(p, "", 1);
        if (p->out && mm.type == MN_JSON_NUMBER)
            mm.d = strtod(p->out + vstart, NULL);
    }
    if (p->m) {
        mm.key = p->out + kstart;
        mm.key_len = klen;
        if (mm.type != MN_JSON_BOOL && mm.type != MN_JSON_NULL) {
            mm.str = p->out + vstart;
            mm.str_len = vlen;
        }
        p->m[p->count] = mm;
    }
    p->count++;
    return true;
}

static bool parse_object(jp *p)
{
    skip_ws(p);
    if (p->i >= p->n || p->s[p->i] != '{')
        return jerr(p, "expected '{'");
    p->i++;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == '}') {
        p->i++;
    } else {
        for (;;) {
            if (!parse_member(p))
                return false;
            skip_ws(p);
            if (p->i < p->n && p->s[p->i] == ',') {
                p->i++;
                skip_ws(p);
                continue;
            }
            if (p->i < p->n && p->s[p->i] == '}') {
                p->i++;
                break;
            }
            return jerr(p, "expected ',' or '}'");
        }
    }
    skip_ws(p);
    if (p->i != p->n)
        return jerr(p, "trailing characters");
    return true;
}

int mn_json_parse(mn_json *j, const char *text, size_t len)
{
    jp p = { .s = text, .n = len };

    memset(j, 0, sizeof(*j));
    if (!parse_object(&p)) {
        j->err = p.err;
        j->err_pos = p.err_pos;
        return MN_EINVAL;
    }

    size_t count = p.count, outlen = p.outlen;
    size_t arr = count * sizeof(mn_json_member);
    char  *block = malloc(arr + outlen + 1);
    if (block == NULL)
        return MN_ENOMEM;

    memset(&p, 0, sizeof(p));
    p.s = text;
    p.n = len;
    p.m = (mn_json_member *)(void *)block;
    p.out = block + arr;
    if (!parse_object(&p)) {   /* cannot happen: the same input passed */
        free(block);
        j->err = p.err;
        j->err_pos = p.err_pos;
        return MN_EINVAL;
    }
    j->members = count ? p.m : NULL;
    j->count = count;
    if (count == 0)
        free(block);
    return MN_OK;
}

void mn_json_free(mn_json *j)
{
    free(j->members);
    j->members = NULL;
    j->count = 0;
}

static bool key_eq(const mn_json_member *m, const char *key, size_t klen)
{
    if (m->key_len != klen)
        return false;
    for (size_t k = 0; k < klen; k++) {
        unsigned char a = (unsigned char)m->key[k], b = (unsigned char)key[k];
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b + 32);
        if (a != b)
            return false;
    }
    return true;
}

const mn_json_member *mn_json_find(const mn_json *j, const char *key)
{
    size_t klen = strlen(key);
    for (size_t k = j->count; k-- > 0;)
        if (key_eq(&j->members[k], key, klen))
            return &j->members[k];
    return NULL;
}

int mn_json_get_str(const mn_json *j, const char *key,
                    const char **val, size_t *len)
{
    const mn_json_member *m = mn_json_find(j, key);
    if (m == NULL || m->type == MN_JSON_NULL)
        return MN_ENOTFOUND;
    if (m->type != MN_JSON_STRING)
        return MN_EINVAL;
    *val = m->str;
    if (len)
        *len = m->str_len;
    return MN_OK;
}

int mn_json_get_bool(const mn_json *j, const char *key, bool *val)
{
    const mn_json_member *m = mn_json_find(j, key);
    if (m == NULL || m->type == MN_JSON_NULL)
        return MN_ENOTFOUND;
    if (m->type != MN_JSON_BOOL)
        return MN_EINVAL;
    *val = m->b;
    return MN_OK;
}

int mn_json_get_int(const mn_json *j, const char *key, int64_t *val)
{
    const mn_json_member *m = mn_json_find(j, key);
    if (m == NULL || m->type == MN_JSON_NULL)
        return MN_ENOTFOUND;
    if (m->type != MN_JSON_NUMBER || !m->is_int)
        return MN_EINVAL;
    *val = m->i;
    return MN_OK;
}
