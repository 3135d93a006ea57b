/*
 * json.c - the monitor's JSON writer and the Go-compatible formats.
 *
 * nats-server prints its monitoring JSON with Go's json.MarshalIndent(v,
 * "", "  "): two-space indentation, `"key": value`, empty arrays as [],
 * strings with <, > and & escaped as \u003c... and invalid UTF-8 replaced
 * by U+FFFD; times as RFC 3339 with nanoseconds; durations as Go's
 * Duration.String.  This file reproduces those so a byte-level diff with
 * nats-server's output only shows different values, never a different
 * shape.  Written from the formats' descriptions, no code borrowed.
 */
#include "monitor.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------ buffer */

void mon_json_init(mon_json *j)
{
    memset(j, 0, sizeof(*j));
}

void mon_json_free(mon_json *j)
{
    free(j->buf);
    mon_json_init(j);
}

char *mon_json_take(mon_json *j, size_t *len)
{
    char *b = j->buf;
    if (len)
        *len = j->len;
    mon_json_init(j);
    return b;
}

static bool reserve(mon_json *j, size_t extra)
{
    if (j->oom)
        return false;
    if (j->len + extra + 1 <= j->cap)
        return true;
    size_t cap = j->cap ? j->cap : 1024;
    while (cap < j->len + extra + 1)
        cap *= 2;
    char *nb = realloc(j->buf, cap);
    if (!nb) {
        j->oom = true;
        return false;
    }
    j->buf = nb;
    j->cap = cap;
    return true;
}

void mon_buf_append(mon_json *j, const char *s, size_t n)
{
    if (!reserve(j, n))
        return;
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void put(mon_json *j, const char *s)
{
    mon_buf_append(j, s, strlen(s));
}

static void putc1(mon_json *j, char c)
{
    mon_buf_append(j, &c, 1);
}

void mon_buf_printf(mon_json *j, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        mon_buf_append(j, small, (size_t)n);
        return;
    }
    if (!reserve(j, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(j->buf + j->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    j->len += (size_t)n;
}

/* --------------------------------------------------------- strings */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2; v = c & 0x1F; min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3; v = c & 0x0F; min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4; v = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

static void put_string(mon_json *j, const char *str)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    size_t n = strlen((const char *)s);
    putc1(j, '"');
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        /* copy a run of bytes that need no escaping in one go */
        while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\' &&
               s[i] != '<' && s[i] != '>' && s[i] != '&')
            i++;
        if (i > start)
            mon_buf_append(j, (const char *)s + start, i - start);
        if (i >= n)
            break;
        unsigned char c = s[i];
        if (c < 0x80) {
            char esc[7];
            switch (c) {
            case '"':  put(j, "\\\""); break;
            case '\\': put(j, "\\\\"); break;
            case '\n': put(j, "\\n"); break;
            case '\r': put(j, "\\r"); break;
            case '\t': put(j, "\\t"); break;
            default:
                esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
                esc[4] = hex[c >> 4]; esc[5] = hex[c & 0xF]; esc[6] = '\0';
                put(j, esc);
            }
            i++;
            continue;
        }
        uint32_t cp;
        size_t l = utf8_len(s + i, n - i, &cp);
        if (l == 0) {
            put(j, "\\ufffd");
            i++;
        } else if (cp == 0x2028 || cp == 0x2029) {
            put(j, cp == 0x2028 ? "\\u2028" : "\\u2029");
            i += l;
        } else {
            mon_buf_append(j, (const char *)s + i, l);
            i += l;
        }
    }
    putc1(j, '"');
}

/* ------------------------------------------------------- structure */

static void indent(mon_json *j)
{
    putc1(j, '\n');
    for (int i = 0; i < j->depth; i++)
        put(j, "  ");
}

/* Separator, newline and indentation, then `"key": ` when key is set. */
static void member(mon_json *j, const char *key)
{
    if (j->depth > 0) {
        if (!j->empty[j->depth])
            putc1(j, ',');
        j->empty[j->depth] = false;
        indent(j);
    }
    if (key) {
        put_string(j, key);
        put(j, ": ");
    }
}

static void open_(mon_json *j, const char *key, char c)
{
    member(j, key);
    putc1(j, c);
    if (j->depth + 1 >= MON_JSON_MAX_DEPTH) {
        j->oom = true;   /* a programming error: fail the reply */
        return;
    }
    j->depth++;
    j->empty[j->depth] = true;
}

static void close_(mon_json *j, char c)
{
    if (j->depth <= 0)
        return;
    bool was_empty = j->empty[j->depth];
    j->depth--;
    if (!was_empty)
        indent(j);
    putc1(j, c);
}

void mon_json_obj_begin(mon_json *j, const char *key) { open_(j, key, '{'); }
void mon_json_obj_end(mon_json *j) { close_(j, '}'); }
void mon_json_arr_begin(mon_json *j, const char *key) { open_(j, key, '['); }
void mon_json_arr_end(mon_json *j) { close_(j, ']'); }

void mon_json_str(mon_json *j, const char *key, const char *s)
{
    member(j, key);
    put_string(j, s);
}

void mon_json_u64(mon_json *j, const char *key, uint64_t v)
{
    member(j, key);
    mon_buf_printf(j, "%" PRIu64, v);
}

void mon_json_i64(mon_json *j, const char *key, int64_t v)
{
    member(j, key);
    mon_buf_printf(j, "%" PRId64, v);
}

void mon_json_bool(mon_json *j, const char *key, bool v)
{
    member(j, key);
    put(j, v ? "true" : "false");
}

void mon_json_null(mon_json *j, const char *key)
{
    member(j, key);
    put(j, "null");
}

void mon_json_double(mon_json *j, const char *key, double v)
{
    char b[64];
    mon_fmt_double(b, sizeof(b), v);
    member(j, key);
    put(j, b);
}

void mon_json_time(mon_json *j, const char *key, int64_t unix_ns)
{
    char b[64];
    mon_fmt_time(b, sizeof(b), unix_ns);
    mon_json_str(j, key, b);
}

/* ----------------------------------------------- spliced JSON text */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* The end of the JSON string token at p ('"'), or NULL. */
static const char *string_end(const char *p)
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

/* A string token copied with <, > and & escaped as Go's encoder does. */
static void put_raw_string(mon_json *j, const char *s, const char *end)
{
    for (const char *p = s; p < end; p++) {
        if (*p == '<' || *p == '>' || *p == '&')
            mon_buf_printf(j, "\\u%04x", (unsigned)*p);
        else
            putc1(j, *p);
    }
}

/* Separator and indentation, then the raw key token (with its quotes). */
static void raw_member(mon_json *j, const char *key, const char *kend)
{
    member(j, NULL);
    if (key) {
        put_raw_string(j, key, kend);
        put(j, ": ");
    }
}

/* One value at p, written as member `key` (a raw token, or NULL) when
 * lead (else the caller wrote the separator and key); the text after it,
 * or NULL when it does not parse. */
static const char *raw_value(mon_json *j, const char *key, const char *kend, const char *p,
                             int level, bool lead)
{
    p = skip_ws(p);
    if (level > 64)
        return NULL;
    if (*p == '{' || *p == '[') {
        char open = *p, close = open == '{' ? '}' : ']';
        if (lead)
            raw_member(j, key, kend);
        putc1(j, open);
        if (j->depth + 1 >= MON_JSON_MAX_DEPTH)
            return NULL;
        j->depth++;
        j->empty[j->depth] = true;
        p = skip_ws(p + 1);
        while (*p != close) {
            const char *k = NULL, *ke = NULL;
            if (open == '{') {
                if (*p != '"' || !(ke = string_end(p)))
                    return NULL;
                k = p;
                p = skip_ws(ke);
                if (*p++ != ':')
                    return NULL;
            }
            p = raw_value(j, k, ke, p, level + 1, true);
            if (!p)
                return NULL;
            p = skip_ws(p);
            if (*p == ',')
                p = skip_ws(p + 1);
            else if (*p != close)
                return NULL;
        }
        close_(j, close);
        return p + 1;
    }
    const char *e;
    if (*p == '"') {
        if (!(e = string_end(p)))
            return NULL;
    } else {
        for (e = p; *e && !strchr(",}] \t\r\n", *e); e++)
            ;
        if (e == p)
            return NULL;
    }
    if (lead)
        raw_member(j, key, kend);
    put_raw_string(j, p, e);
    return e;
}

bool mon_json_raw(mon_json *j, const char *key, const char *text)
{
    if (!text)
        return false;
    /* a dry run on a scratch writer at the same depth: nothing reaches j
     * unless the whole value parses */
    mon_json t;
    mon_json_init(&t);
    t.depth = j->depth;
    const char *end = raw_value(&t, NULL, NULL, text, 0, false);
    bool ok = end && !*skip_ws(end) && !t.oom;
    mon_json_free(&t);
    if (!ok)
        return false;
    member(j, key);
    raw_value(j, NULL, NULL, text, 0, false);
    return true;
}

/* The members of object text written into j's current object. */
static const char *raw_members(mon_json *j, const char *p)
{
    p = skip_ws(p);
    if (*p++ != '{')
        return NULL;
    p = skip_ws(p);
    while (*p != '}') {
        const char *ke;
        if (*p != '"' || !(ke = string_end(p)))
            return NULL;
        const char *k = p;
        p = skip_ws(ke);
        if (*p++ != ':')
            return NULL;
        if (!(p = raw_value(j, k, ke, p, 1, true)))
            return NULL;
        p = skip_ws(p);
        if (*p == ',')
            p = skip_ws(p + 1);
        else if (*p != '}')
            return NULL;
    }
    return p + 1;
}

bool mon_json_raw_members(mon_json *j, const char *text)
{
    if (!text)
        return false;
    mon_json t;
    mon_json_init(&t);
    t.depth = j->depth;
    t.empty[t.depth] = j->empty[j->depth];
    const char *end = raw_members(&t, text);
    bool ok = end && !*skip_ws(end) && !t.oom;
    mon_json_free(&t);
    if (ok)
        raw_members(j, text);
    return ok;
}

/* --------------------------------------------------------- formats */

int64_t mon_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void mon_fmt_time(char *out, size_t cap, int64_t unix_ns)
{
    int64_t sec = unix_ns / 1000000000;
    int64_t frac = unix_ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac == 0) {
        snprintf(out, cap, "%sZ", base);
        return;
    }
    char f[16];
    snprintf(f, sizeof(f), "%09" PRId64, frac);
    size_t fl = 9;
    while (fl > 0 && f[fl - 1] == '0')
        f[--fl] = '\0';
    snprintf(out, cap, "%s.%sZ", base, f);
}

/* Appends v / 10^prec with the fraction's trailing zeros cut ("1.5", "2"). */
static int fmt_frac(char *out, size_t cap, uint64_t v, int prec)
{
    uint64_t p = 1;
    for (int i = 0; i < prec; i++)
        p *= 10;
    uint64_t ip = v / p, fp = v % p;
    if (fp == 0)
        return snprintf(out, cap, "%" PRIu64, ip);
    char f[24];
    snprintf(f, sizeof(f), "%0*" PRIu64, prec, fp);
    size_t fl = strlen(f);
    while (fl > 0 && f[fl - 1] == '0')
        f[--fl] = '\0';
    return snprintf(out, cap, "%" PRIu64 ".%s", ip, f);
}

void mon_fmt_go_duration(char *out, size_t cap, int64_t ns)
{
    if (cap == 0)
        return;
    if (ns == 0) {
        snprintf(out, cap, "0s");
        return;
    }
    const char *sign = ns < 0 ? "-" : "";
    uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    char num[48];
    if (u < 1000) {
        snprintf(out, cap, "%s%" PRIu64 "ns", sign, u);
    } else if (u < 1000000) {
        fmt_frac(num, sizeof(num), u, 3);
        snprintf(out, cap, "%s%s\xc2\xb5s", sign, num);   /* U+00B5 micro sign, as Go */
    } else if (u < 1000000000) {
        fmt_frac(num, sizeof(num), u, 6);
        snprintf(out, cap, "%s%sms", sign, num);
    } else {
        uint64_t secs_ns = u % 60000000000ull;
        uint64_t mins = u / 60000000000ull;
        fmt_frac(num, sizeof(num), secs_ns, 9);
        if (mins == 0)
            snprintf(out, cap, "%s%ss", sign, num);
        else if (mins < 60)
            snprintf(out, cap, "%s%" PRIu64 "m%ss", sign, mins, num);
        else
            snprintf(out, cap, "%s%" PRIu64 "h%" PRIu64 "m%ss", sign, mins / 60, mins % 60, num);
    }
}

void mon_fmt_uptime(char *out, size_t cap, int64_t ns)
{
    int64_t s = ns > 0 ? ns / 1000000000 : 0;
    int64_t m = s / 60, h = m / 60, d = h / 24, y = d / 365;
    if (y > 0)
        snprintf(out, cap, "%" PRId64 "y%" PRId64 "d%" PRId64 "h%" PRId64 "m%" PRId64 "s",
                 y, d % 365, h % 24, m % 60, s % 60);
    else if (d > 0)
        snprintf(out, cap, "%" PRId64 "d%" PRId64 "h%" PRId64 "m%" PRId64 "s",
                 d, h % 24, m % 60, s % 60);
    else if (h > 0)
        snprintf(out, cap, "%" PRId64 "h%" PRId64 "m%" PRId64 "s", h, m % 60, s % 60);
    else if (m > 0)
        snprintf(out, cap, "%" PRId64 "m%" PRId64 "s", m, s % 60);
    else
        snprintf(out, cap, "%" PRId64 "s", s);
}

void mon_fmt_double(char *out, size_t cap, double v)
{
    if (!isfinite(v)) {
        snprintf(out, cap, "0");   /* Go refuses NaN/Inf; never print invalid JSON */
        return;
    }
    double a = fabs(v);
    if (a != 0 && (a < 1e-6 || a >= 1e21)) {
        /* Go switches to exponent form here: shortest %e that round-trips */
        for (int p = 0; p < 17; p++) {
            snprintf(out, cap, "%.*e", p, v);
            if (strtod(out, NULL) == v)
                break;
        }
        /* Go writes e-7 where C writes e-07 */
        char *e = strchr(out, 'e');
        if (e && (e[1] == '-' || e[1] == '+') && e[2] == '0' && e[3] != '\0')
            memmove(e + 2, e + 3, strlen(e + 3) + 1);
        return;
    }
    /* the fewest fraction digits that read back as the same double */
    for (int p = 0; p <= 24; p++) {
        snprintf(out, cap, "%.*f", p, v);
        if (strtod(out, NULL) == v)
            return;
    }
}
