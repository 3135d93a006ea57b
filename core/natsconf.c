/*
 * natsconf.c - the reader for nats-server's configuration format (see
 * natsconf.h for the syntax and the typing), the rule that tells it from
 * libconfig, and the printer behind `modnats --convert`.
 *
 * The reader is a recursive-descent parser over the whole text.  It builds
 * the mn_cfg tree as it goes, so that a `$VAR` reference can look back at
 * the keys already read in the enclosing blocks (innermost first), as
 * nats-server's parser does; an included file is parsed on its own (its
 * variables do not see the includer's) and its keys are merged where the
 * `include` stood.  Where nats-server 2.9 is stricter than it needs to be
 * (a value such as 2m30s, a key directly followed by `{`), this reader
 * accepts; it never accepts something nats-server would read differently.
 */
#include "natsconf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Includes and environment variables that hold variables may nest this far. */
#define NC_MAX_DEPTH 16
/* Blocks and lists may nest this far (the parser recurses). */
#define NC_MAX_NESTING 200

typedef struct nc_shared {
    char  *err;
    size_t errlen;
    int    depth;           /* includes / environment values being read */
} nc_shared;

typedef struct nc {
    const char *p, *end;
    const char *lstart;     /* start of the current line */
    int         line;
    int         nesting;
    const char *file;       /* for nodes and messages */
    nc_shared  *sh;
    mn_cfg    **scopes;     /* the blocks being read, outermost first */
    size_t      nscopes, capscopes;
} nc;

static int parse_text(nc_shared *sh, const char *text, size_t len, const char *name,
                      mn_cfg **out);

static int col_of(const nc *x, const char *at)
{
    return (int)(at - x->lstart) + 1;
}

static int nc_fail(nc *x, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int nc_fail(nc *x, int line, int col, const char *fmt, ...)
{
    if (x->sh->err && x->sh->errlen) {
        int n = snprintf(x->sh->err, x->sh->errlen, "%s:%d:%d: ", x->file, line, col);
        if (n >= 0 && (size_t)n < x->sh->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(x->sh->err + n, x->sh->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return MN_EINVAL;
}

static int nc_oom(nc *x)
{
    if (x->sh->err && x->sh->errlen)
        snprintf(x->sh->err, x->sh->errlen, "out of memory");
    return MN_ENOMEM;
}

/* A character for messages: printable as is, else as an escape. */
static const char *show(char c, char buf[8])
{
    if (c == '\n')
        return "\\n";
    if (c == '\r')
        return "\\r";
    if (c == '\t')
        return "\\t";
    if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
        snprintf(buf, 8, "\\x%02x", (unsigned char)c);
    else
        snprintf(buf, 8, "%c", c);
    return buf;
}

static char peek(const nc *x)
{
    return x->p < x->end ? *x->p : '\0';
}

static char peek2(const nc *x)
{
    return x->p + 1 < x->end ? x->p[1] : '\0';
}

static void adv(nc *x)
{
    if (x->p >= x->end)
        return;
    if (*x->p == '\n') {
        x->line++;
        x->lstart = x->p + 1;
    }
    x->p++;
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }
static bool is_nl(char c) { return c == '\n' || c == '\r'; }

static bool at_comment(const nc *x)
{
    return peek(x) == '#' || (peek(x) == '/' && peek2(x) == '/');
}

static void skip_line(nc *x)
{
    while (x->p < x->end && *x->p != '\n')
        adv(x);
}

static void skip_blanks(nc *x)
{
    while (is_blank(peek(x)))
        adv(x);
}

/* Whitespace, new lines and comments. */
static void skip_space(nc *x)
{
    for (;;) {
        char c = peek(x);
        if (is_blank(c) || is_nl(c) || c == '\f' || c == '\v')
            adv(x);
        else if (at_comment(x))
            skip_line(x);
        else
            return;
    }
}

/* ---- scopes for $VAR ---------------------------------------------------- */

static int push_scope(nc *x, mn_cfg *g)
{
    if (x->nscopes == x->capscopes) {
        size_t cap = x->capscopes ? x->capscopes * 2 : 8;
        mn_cfg **s = realloc(x->scopes, cap * sizeof *s);
        if (!s)
            return MN_ENOMEM;
        x->scopes = s;
        x->capscopes = cap;
    }
    x->scopes[x->nscopes++] = g;
    return MN_OK;
}

/* The latest key of that exact name (nats-server's lookup is case-sensitive)
 * in the innermost block that has one. */
static mn_cfg *lookup_scopes(nc *x, const char *name)
{
    for (size_t i = x->nscopes; i-- > 0; ) {
        const mn_cfg *g = x->scopes[i];
        for (size_t k = g->nkids; k-- > 0; )
            if (g->kids[k]->name && strcmp(g->kids[k]->name, name) == 0)
                return g->kids[k];
    }
    return NULL;
}

/* Re-home a copied value at the place that referenced it. */
static int place(mn_cfg *n, const char *name, const char *file, int line, int col)
{
    free(n->name);
    n->name = NULL;
    free(n->file);
    n->file = NULL;
    if ((name && !(n->name = strdup(name))) || !(n->file = strdup(file)))
        return MN_ENOMEM;
    n->line = line;
    n->col = col;
    n->var_used = false;
    return MN_OK;
}

static int resolve_var(nc *x, const char *var, const char *name, int line, int col,
                       mn_cfg **out)
{
    mn_cfg *def = lookup_scopes(x, var);
    if (def) {
        def->var_used = true;
        mn_cfg *n = mn_cfg_dup(def);
        if (!n || place(n, name, x->file, line, col) != MN_OK) {
            mn_cfg_free(n);
            return nc_oom(x);
        }
        *out = n;
        return MN_OK;
    }
    const char *env = getenv(var);
    if (!env)
        return nc_fail(x, line, col, "variable reference for '%s' can not be found", var);
    /* As nats-server: the environment value is read as a config value. */
    if (x->sh->depth >= NC_MAX_DEPTH)
        return nc_fail(x, line, col, "variable '%s': environment variables refer to "
                       "each other too deeply (a loop?)", var);
    size_t len = strlen(env);
    char *text = malloc(len + 4);
    if (!text)
        return nc_oom(x);
    memcpy(text, "pk=", 3);
    memcpy(text + 3, env, len + 1);
    char where[300];
    snprintf(where, sizeof where, "environment variable %s (used at %s:%d:%d)", var,
             x->file, line, col);
    mn_cfg *root = NULL;
    x->sh->depth++;
    int rc = parse_text(x->sh, text, len + 3, where, &root);
    x->sh->depth--;
    free(text);
    if (rc != MN_OK)
        return rc;
    mn_cfg *v = mn_cfg_get(root, "pk");
    if (!v) {
        mn_cfg_free(root);
        return nc_fail(x, line, col, "variable '%s': the environment variable holds no value",
                       var);
    }
    mn_cfg *n = mn_cfg_dup(v);
    mn_cfg_free(root);
    if (!n || place(n, name, x->file, line, col) != MN_OK) {
        mn_cfg_free(n);
        return nc_oom(x);
    }
    *out = n;
    return MN_OK;
}

/* ---- values ------------------------------------------------------------- */

static int parse_body(nc *x, mn_cfg *g, bool top, int oline, int ocol);
static int parse_value(nc *x, const char *name, int line, int col, mn_cfg **out);

static mn_cfg *new_node(nc *x, const char *name, mn_cfg_type t, int line, int col)
{
    mn_cfg *n = mn_cfg_new(name, t, x->file, line);
    if (n)
        n->col = col;
    return n;
}

/* nats-server's size suffixes: k/m/g/t/p/e powers of 1000, with b, i or ib
 * powers of 1024. */
static bool size_suffix(const char *s, int64_t *mul)
{
    static const char units[] = "kmgtpe";
    const char *u = strchr(units, tolower((unsigned char)s[0]));
    if (!s[0] || !u)
        return false;
    int exp = (int)(u - units) + 1;
    const char *rest = s + 1;
    bool binary = true;
    if (!*rest)
        binary = false;
    else if (strcasecmp(rest, "b") && strcasecmp(rest, "i") && strcasecmp(rest, "ib"))
        return false;
    int64_t m = 1;
    for (int i = 0; i < exp; i++)
        m *= binary ? 1024 : 1000;
    *mul = m;
    return true;
}

/* A bare token: a number (with a size suffix), a bool, a variable, or a
 * string (words, URLs, IP:port, 10s). */
static int bare_value(nc *x, const char *tok, const char *name, int line, int col,
                      mn_cfg **out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    mn_cfg *n = NULL;
    if (tok[0] == '$') {
        /* An unquoted bcrypt hash ("$2a$11$...") is a string, not a variable. */
        if (strncmp(tok + 1, "2a$", 3) && strncmp(tok + 1, "2b$", 3) &&
            strncmp(tok + 1, "2y$", 3)) {
            if (!tok[1])
                return nc_fail(x, line, col, "a variable needs a name after '$'");
            return resolve_var(x, tok + 1, name, line, col, out);
        }
    }
    for (size_t i = 0; i < 3 && !n; i++) {
        if (!strcasecmp(tok, yes[i]) || !strcasecmp(tok, no[i])) {
            if (!(n = new_node(x, name, MN_CFG_BOOL, line, col)))
                return nc_oom(x);
            n->b = !strcasecmp(tok, yes[i]);
        }
    }
    const char *q = tok + (tok[0] == '-');
    if (!n && tok[0] == '-' && !isdigit((unsigned char)*q))
        return nc_fail(x, line, col, "expected a digit after '-', got \"%s\"", tok);
    if (!n && isdigit((unsigned char)*q)) {
        const char *d = q;
        while (isdigit((unsigned char)*d))
            d++;
        int64_t mul = 1;
        bool is_int = !*d || size_suffix(d, &mul);
        bool is_float = false;
        if (*d == '.' && isdigit((unsigned char)d[1])) {
            const char *f = d + 1;
            while (isdigit((unsigned char)*f))
                f++;
            is_float = !*f;
        }
        if (is_int) {
            errno = 0;
            long long v = strtoll(tok, NULL, 10);
            if (errno == ERANGE || (mul > 1 && (v > INT64_MAX / mul || v < INT64_MIN / mul)))
                return nc_fail(x, line, col, "integer %s is out of range", tok);
            if (!(n = new_node(x, name, MN_CFG_INT, line, col)))
                return nc_oom(x);
            n->i = (int64_t)v * mul;
            if (*d && !(n->s = strdup(tok))) {   /* keep "64MB" / "2m" as written */
                mn_cfg_free(n);
                return nc_oom(x);
            }
        } else if (is_float) {
            if (!(n = new_node(x, name, MN_CFG_FLOAT, line, col)))
                return nc_oom(x);
            n->d = strtod(tok, NULL);
        }
    }
    if (!n) {
        if (!(n = new_node(x, name, MN_CFG_STRING, line, col)) || !(n->s = strdup(tok))) {
            mn_cfg_free(n);
            return nc_oom(x);
        }
    }
    *out = n;
    return MN_OK;
}

/* Growable byte buffer for strings. */
typedef struct sbuf {
    char  *v;
    size_t n, cap;
} sbuf;

static bool sb_put(sbuf *b, char c)
{
    if (b->n + 2 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        char *v = realloc(b->v, cap);
        if (!v)
            return false;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = c;
    b->v[b->n] = '\0';
    return true;
}

/* The string is complete: an empty one still gets its buffer. */
static bool sb_done(sbuf *b)
{
    if (!b->v)
        b->v = calloc(1, 1);
    return b->v != NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* "...": \t \n \r \" \\ and \xHH, as nats-server; may span lines. */
static int dq_string(nc *x, sbuf *b, int line, int col)
{
    adv(x);
    for (;;) {
        char c = peek(x);
        if (x->p >= x->end)
            return nc_fail(x, line, col, "string not terminated (missing '\"')");
        if (c == '"') {
            adv(x);
            break;
        }
        if (c == '\\') {
            int el = x->line, ec = col_of(x, x->p);
            adv(x);
            char e = peek(x), out;
            switch (e) {
            case 't': out = '\t'; break;
            case 'n': out = '\n'; break;
            case 'r': out = '\r'; break;
            case '"': out = '"'; break;
            case '\\': out = '\\'; break;
            case 'x': {
                adv(x);
                int h = hexval(peek(x)), l = hexval(peek2(x));
                if (h < 0 || l < 0)
                    return nc_fail(x, el, ec, "expected two hexadecimal digits after '\\x'");
                adv(x);
                out = (char)(h * 16 + l);
                if (!out)
                    return nc_fail(x, el, ec, "'\\x00' cannot be used in a string");
                break;
            }
            default: {
                char sb[8];
                return nc_fail(x, el, ec, "invalid escape '\\%s' (allowed: \\t \\n \\r "
                               "\\\" \\\\ \\xHH)", show(e, sb));
            }
            }
            adv(x);
            if (!sb_put(b, out))
                return nc_oom(x);
            continue;
        }
        adv(x);
        if (!sb_put(b, c))
            return nc_oom(x);
    }
    return sb_done(b) ? MN_OK : nc_oom(x);
}

/* '...': taken as written. */
static int sq_string(nc *x, sbuf *b, int line, int col)
{
    adv(x);
    while (peek(x) != '\'') {
        if (x->p >= x->end)
            return nc_fail(x, line, col, "string not terminated (missing \"'\")");
        if (!sb_put(b, peek(x)))
            return nc_oom(x);
        adv(x);
    }
    adv(x);
    return sb_done(b) ? MN_OK : nc_oom(x);
}

/* ( ... ): the text up to a line that holds only ')'. */
static int block_string(nc *x, sbuf *b, int line, int col)
{
    adv(x);
    const char *start = x->p;
    for (;;) {
        if (x->p >= x->end)
            return nc_fail(x, line, col, "text block not terminated (a ')' alone on a line)");
        if (*x->p == '\n' && x->p + 1 < x->end && x->p[1] == ')' &&
            (x->p + 2 == x->end || x->p[2] == '\n' || x->p[2] == '\r')) {
            for (const char *c = start; c < x->p; c++)
                if (!sb_put(b, *c))
                    return nc_oom(x);
            adv(x);
            adv(x);
            break;
        }
        adv(x);
    }
    return sb_done(b) ? MN_OK : nc_oom(x);
}

static bool ends_bare(char c)
{
    return c == '\0' || is_blank(c) || is_nl(c) || c == ',' || c == ';' || c == ']' ||
           c == '}';
}

static int parse_list(nc *x, mn_cfg *l, int oline, int ocol)
{
    adv(x);     /* '[' */
    for (;;) {
        skip_space(x);
        char c = peek(x), sb[8];
        if (x->p >= x->end)
            return nc_fail(x, oline, ocol, "list not terminated (missing ']')");
        if (c == ']') {
            adv(x);
            return MN_OK;
        }
        if (c == ',')
            return nc_fail(x, x->line, col_of(x, x->p), "unexpected ',' in a list");
        mn_cfg *e = NULL;
        int rc = parse_value(x, NULL, x->line, col_of(x, x->p), &e);
        if (rc != MN_OK)
            return rc;
        if (mn_cfg_add(l, e) != MN_OK) {
            mn_cfg_free(e);
            return nc_oom(x);
        }
        skip_blanks(x);
        c = peek(x);
        if (c == ',')
            adv(x);
        else if (c == ']' || is_nl(c) || at_comment(x) || x->p >= x->end)
            continue;
        else
            return nc_fail(x, x->line, col_of(x, x->p),
                           "expected ',' or ']' after a list element, got '%s'", show(c, sb));
    }
}

static int parse_value(nc *x, const char *name, int line, int col, mn_cfg **out)
{
    char c = peek(x), sb[8];
    int vl = x->line, vc = col_of(x, x->p);
    *out = NULL;
    if (c == '{' || c == '[') {
        if (++x->nesting > NC_MAX_NESTING)
            return nc_fail(x, vl, vc, "blocks and lists nested too deeply");
        mn_cfg *n = new_node(x, name, c == '{' ? MN_CFG_GROUP : MN_CFG_LIST, line, col);
        if (!n)
            return nc_oom(x);
        int rc;
        if (c == '{') {
            adv(x);
            rc = push_scope(x, n) == MN_OK ? parse_body(x, n, false, vl, vc) : nc_oom(x);
            x->nscopes--;
        } else {
            rc = parse_list(x, n, vl, vc);
        }
        x->nesting--;
        if (rc != MN_OK) {
            mn_cfg_free(n);
            return rc;
        }
        *out = n;
        return MN_OK;
    }
    if (c == '"' || c == '\'' || c == '(') {
        sbuf b = {0};
        int rc = c == '"' ? dq_string(x, &b, vl, vc)
               : c == '\'' ? sq_string(x, &b, vl, vc) : block_string(x, &b, vl, vc);
        mn_cfg *n = rc == MN_OK ? new_node(x, name, MN_CFG_STRING, line, col) : NULL;
        if (rc == MN_OK && !n)
            rc = nc_oom(x);
        if (rc != MN_OK) {
            free(b.v);
            return rc;
        }
        n->s = b.v;
        *out = n;
        return MN_OK;
    }
    if (ends_bare(c) || c == '=' || c == ':')
        return nc_fail(x, vl, vc, x->p >= x->end ? "expected a value, got the end of the file"
                                  : is_nl(c) ? "expected a value, got a new line"
                                  : "expected a value, got '%s'", show(c, sb));
    const char *start = x->p;
    while (!ends_bare(peek(x)))
        adv(x);
    char *tok = strndup(start, (size_t)(x->p - start));
    if (!tok)
        return nc_oom(x);
    int rc = bare_value(x, tok, name, line, col, out);
    free(tok);
    return rc;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static char *slurp_file(const char *path, size_t *len, int *err)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f) {
        *err = errno;
        return NULL;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        *err = EISDIR;
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    *err = buf ? (ferror(f) ? EIO : 0) : ENOMEM;
    fclose(f);
    if (buf && *err) {
        free(buf);
        buf = NULL;
    }
    *len = n;
    return buf;
}

/* include FILE: parse it on its own and merge its keys into g. */
static int do_include(nc *x, mn_cfg *g, int line, int col)
{
    skip_blanks(x);
    int vl = x->line, vc = col_of(x, x->p);
    char c = peek(x);
    sbuf b = {0};
    int rc = MN_OK;
    if (c == '"' || c == '\'') {
        adv(x);
        while (peek(x) != c) {
            if (x->p >= x->end || is_nl(peek(x))) {
                free(b.v);
                return nc_fail(x, vl, vc, "include: file name not terminated");
            }
            if (!sb_put(&b, peek(x))) {
                free(b.v);
                return nc_oom(x);
            }
            adv(x);
        }
        adv(x);
    } else {
        while (!ends_bare(peek(x)) && peek(x) != '#') {
            if (!sb_put(&b, peek(x))) {
                free(b.v);
                return nc_oom(x);
            }
            adv(x);
        }
    }
    if (!b.n) {
        free(b.v);
        return nc_fail(x, vl, vc, "include: expected a file name");
    }
    if (x->sh->depth >= NC_MAX_DEPTH) {
        rc = nc_fail(x, line, col, "include \"%s\": includes nested too deeply "
                     "(does a file include itself?)", b.v);
        free(b.v);
        return rc;
    }
    char *path;
    if (b.v[0] == '/') {
        path = strdup(b.v);
    } else {
        /* Relative to the including file's directory, as nats-server. */
        char *dir = dir_of(x->file);
        size_t len = (dir ? strlen(dir) : 0) + b.n + 2;
        path = dir ? malloc(len) : NULL;
        if (path && !strcmp(dir, "."))
            snprintf(path, len, "%s", b.v);
        else if (path)
            snprintf(path, len, "%s/%s", dir, b.v);
        free(dir);
    }
    if (!path) {
        free(b.v);
        return nc_oom(x);
    }
    size_t len;
    int e;
    char *text = slurp_file(path, &len, &e);
    if (!text) {
        rc = e == ENOMEM ? nc_oom(x)
                         : nc_fail(x, line, col, "include \"%s\": cannot read %s: %s", b.v, path,
                                   strerror(e));
        free(path);
        free(b.v);
        return rc;
    }
    mn_cfg *sub = NULL;
    x->sh->depth++;
    rc = parse_text(x->sh, text, len, path, &sub);
    x->sh->depth--;
    free(text);
    free(path);
    free(b.v);
    if (rc != MN_OK)
        return rc;
    for (size_t i = 0; i < sub->nkids; i++) {
        if (mn_cfg_add(g, sub->kids[i]) != MN_OK) {
            for (size_t j = i; j < sub->nkids; j++)
                mn_cfg_free(sub->kids[j]);
            sub->nkids = 0;
            mn_cfg_free(sub);
            return nc_oom(x);
        }
    }
    sub->nkids = 0;
    mn_cfg_free(sub);
    return MN_OK;
}

/* Keys and values up to the closing '}' (or the end of the file for the
 * top level). */
static int parse_body(nc *x, mn_cfg *g, bool top, int oline, int ocol)
{
    char sb[8];
    for (;;) {
        skip_space(x);
        char c = peek(x);
        if (x->p >= x->end) {
            if (top)
                return MN_OK;
            return nc_fail(x, oline, ocol, "block not terminated (missing '}')");
        }
        if (c == '}') {
            int bl = x->line, bc = col_of(x, x->p);
            adv(x);
            if (!top)
                return MN_OK;
            /* nats-server tolerates a stray closing brace at the end. */
            skip_space(x);
            if (x->p < x->end)
                return nc_fail(x, bl, bc, "unexpected '}' (no block is open)");
            return MN_OK;
        }
        if (top && c == '{') {   /* the whole file may be wrapped in { } */
            adv(x);
            continue;
        }
        int kl = x->line, kc = col_of(x, x->p);
        if (c == '=' || c == ':' || c == ',' || c == ';' || c == ']' || c == '[')
            return nc_fail(x, kl, kc, "expected a key, got '%s'", show(c, sb));
        sbuf key = {0};
        bool quoted = c == '"' || c == '\'';
        if (quoted) {
            adv(x);
            while (peek(x) != c) {
                if (x->p >= x->end || is_nl(peek(x))) {
                    free(key.v);
                    return nc_fail(x, kl, kc, "key not terminated (missing %s)",
                                   c == '"' ? "'\"'" : "\"'\"");
                }
                if (!sb_put(&key, peek(x))) {
                    free(key.v);
                    return nc_oom(x);
                }
                adv(x);
            }
            adv(x);
            if (!key.n) {
                free(key.v);
                return nc_fail(x, kl, kc, "empty key");
            }
        } else {
            for (c = peek(x); x->p < x->end && !is_blank(c) && !is_nl(c) && c != '=' &&
                              c != ':' && c != '{' && c != '}'; c = peek(x)) {
                if (!sb_put(&key, c)) {
                    free(key.v);
                    return nc_oom(x);
                }
                adv(x);
            }
            if (!key.n)
                return nc_fail(x, kl, kc, "expected a key, got '%s'", show(peek(x), sb));
        }
        if (!quoted && !strcasecmp(key.v, "include") && is_blank(peek(x))) {
            free(key.v);
            int rc = do_include(x, g, kl, kc);
            if (rc != MN_OK)
                return rc;
        } else {
            /* key [=|:] value; new lines may come between key and separator */
            while (is_blank(peek(x)) || is_nl(peek(x)))
                adv(x);
            if (peek(x) == '=' || peek(x) == ':') {
                adv(x);
                skip_blanks(x);
            }
            if (x->p >= x->end || is_nl(peek(x)) || at_comment(x)) {
                int rc = nc_fail(x, kl, kc, "key \"%s\" has no value", key.v);
                free(key.v);
                return rc;
            }
            mn_cfg *v = NULL;
            int rc = parse_value(x, key.v, kl, kc, &v);
            free(key.v);
            if (rc != MN_OK)
                return rc;
            if (mn_cfg_add(g, v) != MN_OK) {
                mn_cfg_free(v);
                return nc_oom(x);
            }
        }
        /* After a value: a new line, ',' or ';', a comment, or the '}'. */
        skip_blanks(x);
        c = peek(x);
        if (c == ',' || c == ';')
            adv(x);
        else if (c == '}' && top)
            adv(x);     /* as nats-server: a '}' ends a top-level value */
        else if (!(x->p >= x->end || is_nl(c) || c == '}' || at_comment(x)))
            return nc_fail(x, x->line, col_of(x, x->p),
                           "expected a new line, ',' or ';' after the value, got '%s'",
                           show(c, sb));
    }
}

static int parse_text(nc_shared *sh, const char *text, size_t len, const char *name,
                      mn_cfg **out)
{
    nc x = {.p = text, .end = text + len, .lstart = text, .line = 1, .file = name, .sh = sh};
    *out = NULL;
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        for (const char *q = text; q < nul; q++)
            adv(&x);
        return nc_fail(&x, x.line, col_of(&x, nul), "a NUL byte in the file");
    }
    /* A UTF-8 byte order mark is not part of the first key. */
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
        x.p += 3;
        x.lstart += 3;
    }
    mn_cfg *root = mn_cfg_new(NULL, MN_CFG_GROUP, name, 0);
    if (!root || push_scope(&x, root) != MN_OK) {
        mn_cfg_free(root);
        free(x.scopes);
        return nc_oom(&x);
    }
    int rc = parse_body(&x, root, true, 1, 1);
    free(x.scopes);
    if (rc != MN_OK) {
        mn_cfg_free(root);
        return rc;
    }
    *out = root;
    return MN_OK;
}

int mn_natsconf_parse(const char *text, size_t len, const char *name, mn_cfg **out,
                      char *err, size_t errlen)
{
    nc_shared sh = {.err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    return parse_text(&sh, text, len, name ? name : "(config)", out);
}

int mn_natsconf_parse_file(const char *path, mn_cfg **out, char *err, size_t errlen)
{
    size_t len;
    int e;
    *out = NULL;
    char *text = slurp_file(path, &len, &e);
    if (!text) {
        if (err && errlen)
            snprintf(err, errlen, e == ENOMEM ? "out of memory"
                                  : "%s: cannot open the config file: %s", path, strerror(e));
        return e == ENOMEM ? MN_ENOMEM : MN_EINVAL;
    }
    int rc = mn_natsconf_parse(text, len, path, out, err, errlen);
    free(text);
    return rc;
}

/* ---- telling the formats apart ------------------------------------------
 *
 * The rule (docs/configuration.md, "Which format"): a file is read as
 * libconfig when it shows anything only libconfig has (@include, a comment
 * in slash-star form, an integer with an L suffix or in hex, a float with an
 * exponent).  Otherwise it is read as
 * nats-server's when its nats-server-only constructs (a key followed by
 * `{` or by a value without `=`/`:`, `include`, unquoted words, URLs and
 * IP addresses, `$VAR`, 64MB-style sizes, 'single quotes', integers beyond
 * 32 bits, a top-level `{ }` wrapper) outnumber the values it ends with `;`
 * (which libconfig files have on nearly every line and nats-server files
 * almost never).  The syntax both share (`key = 1`, `key: "text"`,
 * `key = { ... }`, `[1, 2]`) reads the same either way.
 */

typedef struct det {
    const char *p, *end;
    int  nats, semis;
    bool lib;
} det;

static char dpeek(const det *d) { return d->p < d->end ? *d->p : '\0'; }

static void d_skip_space(det *d)
{
    while (d->p < d->end) {
        char c = *d->p;
        if (isspace((unsigned char)c)) {
            d->p++;
        } else if (c == '#' || (c == '/' && d->p + 1 < d->end && d->p[1] == '/')) {
            while (d->p < d->end && *d->p != '\n')
                d->p++;
        } else if (c == '/' && d->p + 1 < d->end && d->p[1] == '*') {
            d->lib = true;
            d->p += 2;
            while (d->p + 1 < d->end && !(d->p[0] == '*' && d->p[1] == '/'))
                d->p++;
            d->p = d->p + 2 <= d->end ? d->p + 2 : d->end;
        } else {
            return;
        }
    }
}

static void d_skip_blanks(det *d)
{
    while (d->p < d->end && (*d->p == ' ' || *d->p == '\t'))
        d->p++;
}

static void d_skip_quoted(det *d)
{
    char q = *d->p++;
    while (d->p < d->end && *d->p != q) {
        if (q == '"' && *d->p == '\\' && d->p + 1 < d->end)
            d->p++;
        d->p++;
    }
    if (d->p < d->end)
        d->p++;
}

/* One value token; counts what it says about the format. */
static void d_value_token(det *d)
{
    const char *s = d->p;
    while (d->p < d->end && !ends_bare(*d->p) && *d->p != ')')
        d->p++;
    size_t n = (size_t)(d->p - s);
    if (!n)
        return;
    if ((n == 4 && !strncasecmp(s, "true", 4)) || (n == 5 && !strncasecmp(s, "false", 5)))
        return;
    const char *q = s + (*s == '-' || *s == '+');
    if (q < d->p && isdigit((unsigned char)*q)) {
        if (d->p - q > 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) {
            d->lib = true;
            return;
        }
        const char *e = q;
        while (e < d->p && isdigit((unsigned char)*e))
            e++;
        if (e == d->p) {
            /* the text is not NUL-terminated: a bounded copy */
            char num[24];
            if (n >= sizeof num) {
                d->nats++;
                return;
            }
            memcpy(num, s, n);
            num[n] = '\0';
            errno = 0;
            long long v = strtoll(num, NULL, 10);
            if (errno == ERANGE || v > INT32_MAX || v < INT32_MIN)
                d->nats++;
            return;
        }
        if (e + 1 == d->p && *e == 'L') {
            d->lib = true;
            return;
        }
        if (*e == '.') {
            e++;
            while (e < d->p && isdigit((unsigned char)*e))
                e++;
            if (e == d->p)
                return;     /* a float: both */
            if (*e == 'e' || *e == 'E') {
                d->lib = true;
                return;
            }
        }
    }
    d->nats++;  /* a word, URL, IP address, size, duration or $VAR */
}

mn_conf_format mn_natsconf_detect(const char *text, size_t len)
{
    det d = {.p = text, .end = text + len};
    char stack[64];     /* 'g' block of keys, 'l' list of values */
    int depth = 0;
    bool first = true;
    stack[0] = 'g';
    const char *last = NULL;
    while (d.p < d.end && !d.lib) {
        if (d.p == last)
            d.p++;      /* always move on, whatever the text */
        last = d.p;
        d_skip_space(&d);
        if (d.p >= d.end)
            break;
        char c = *d.p;
        if (stack[depth] == 'g') {
            if (c == '}' || c == ';' || c == ',') {
                if (c == '}' && depth > 0)
                    depth--;
                d.p++;
                continue;
            }
            if (c == '{' && first && depth == 0) {
                d.nats++;
                d.p++;
                first = false;
                continue;
            }
            first = false;
            if (c == '@') {
                if (d.end - d.p >= 8 && !strncmp(d.p, "@include", 8))
                    d.lib = true;
                d.p++;
                continue;
            }
            /* a key */
            const char *k = d.p;
            if (c == '"' || c == '\'') {
                d.nats++;
                d_skip_quoted(&d);
            } else {
                while (d.p < d.end && !isspace((unsigned char)*d.p) && *d.p != '=' &&
                       *d.p != ':' && *d.p != '{' && *d.p != '}')
                    d.p++;
                if (d.p == k) {
                    d.p++;
                    continue;
                }
            }
            bool include = d.p - k == 7 && !strncasecmp(k, "include", 7);
            d_skip_blanks(&d);
            if (include && d.p < d.end && *d.p != '=' && *d.p != ':') {
                d.nats++;
                while (d.p < d.end && *d.p != '\n')
                    d.p++;
                continue;
            }
            d_skip_space(&d);
            c = dpeek(&d);
            if (c == '=' || c == ':') {
                d.p++;
                d_skip_blanks(&d);
            } else if (c == '{') {
                d.nats++;
            } else {
                d.nats++;   /* key value */
            }
        }
        /* a value (in a block after its key, or a list element) */
        c = dpeek(&d);
        if (c == '{' || c == '[' || c == '(') {
            if (depth + 1 < (int)sizeof stack)
                stack[++depth] = c == '{' ? 'g' : 'l';
            d.p++;
            continue;
        }
        if (c == ']' || c == ')' || c == '}') {
            if (depth > 0)
                depth--;
            d.p++;
        } else if (c == '"') {
            d_skip_quoted(&d);
        } else if (c == '\'') {
            d.nats++;
            d_skip_quoted(&d);
        } else if (c == ',') {
            d.p++;
            continue;
        } else {
            d_value_token(&d);
        }
        d_skip_blanks(&d);
        if (dpeek(&d) == ';') {
            d.semis++;
            d.p++;
        }
    }
    if (d.lib)
        return MN_CONF_LIBCONFIG;
    return d.nats > d.semis ? MN_CONF_NATS : MN_CONF_LIBCONFIG;
}

/* ---- printing libconfig ------------------------------------------------- */

static bool libconfig_name(const char *s)
{
    if (!s || !(isalpha((unsigned char)*s) || *s == '*'))
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '*')
            return false;
    return true;
}

static void print_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(f, "\\x%02x", c);
            else
                fputc(c, f);
        }
    }
    fputc('"', f);
}

static int print_node(FILE *f, const mn_cfg *n, int indent, char *err, size_t errlen);

static bool scalar_list(const mn_cfg *l)
{
    for (size_t i = 0; i < l->nkids; i++)
        if (l->kids[i]->type == MN_CFG_GROUP || l->kids[i]->type == MN_CFG_LIST ||
            l->kids[i]->type != l->kids[0]->type)
            return false;
    return true;
}

static int print_value(FILE *f, const mn_cfg *n, int indent, char *err, size_t errlen)
{
    int rc = MN_OK;
    switch (n->type) {
    case MN_CFG_BOOL:
        fputs(n->b ? "true" : "false", f);
        break;
    case MN_CFG_INT:
        fprintf(f, "%lld%s", (long long)n->i, n->i > INT32_MAX || n->i < INT32_MIN ? "L" : "");
        if (n->s)
            fprintf(f, " /* %s */", n->s);
        break;
    case MN_CFG_FLOAT: {
        char buf[64];
        snprintf(buf, sizeof buf, "%.17g", n->d);
        if (!strpbrk(buf, ".eEni"))
            strcat(buf, ".0");
        fputs(buf, f);
        break;
    }
    case MN_CFG_STRING:
        print_string(f, n->s ? n->s : "");
        break;
    case MN_CFG_GROUP:
        fputs("{\n", f);
        for (size_t i = 0; i < n->nkids && rc == MN_OK; i++)
            rc = print_node(f, n->kids[i], indent + 2, err, errlen);
        fprintf(f, "%*s}", indent, "");
        break;
    case MN_CFG_LIST: {
        bool arr = scalar_list(n);
        fputs(arr ? "[" : "(", f);
        for (size_t i = 0; i < n->nkids && rc == MN_OK; i++) {
            if (arr) {
                fputs(i ? ", " : " ", f);
            } else {
                fprintf(f, "%s\n%*s", i ? "," : "", indent + 2, "");
            }
            rc = print_value(f, n->kids[i], indent + 2, err, errlen);
        }
        if (arr)
            fputs(n->nkids ? " ]" : "]", f);
        else
            fprintf(f, "%s%*s)", n->nkids ? "\n" : "", n->nkids ? indent : 0, "");
        break;
    }
    }
    return rc;
}

static int print_node(FILE *f, const mn_cfg *n, int indent, char *err, size_t errlen)
{
    if (!libconfig_name(n->name)) {
        if (err && errlen) {
            if (n->col)
                snprintf(err, errlen, "%s:%d:%d: the key \"%s\" cannot be written in libconfig "
                         "(names are letters, digits, '_', '-' and '*', starting with a letter)",
                         n->file ? n->file : "?", n->line, n->col, n->name ? n->name : "");
            else
                snprintf(err, errlen, "%s:%d: the key \"%s\" cannot be written in libconfig",
                         n->file ? n->file : "?", n->line, n->name ? n->name : "");
        }
        return MN_EINVAL;
    }
    fprintf(f, "%*s%s = ", indent, "", n->name);
    int rc = print_value(f, n, indent, err, errlen);
    fputs(";\n", f);
    return rc;
}

int mn_natsconf_print_libconfig(FILE *f, const mn_cfg *root, char *err, size_t errlen)
{
    int rc = MN_OK;
    for (size_t i = 0; i < root->nkids && rc == MN_OK; i++)
        rc = print_node(f, root->kids[i], 0, err, errlen);
    return rc;
}
