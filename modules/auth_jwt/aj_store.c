/*
 * aj_store.c - the account resolver's store: account JWTs by public key.
 * The MEMORY resolver fills it from resolver_preload; the directory ("full")
 * resolver also keeps one file per account, <dir>/<public key>.jwt, written
 * atomically (a temporary file renamed over the old one) and read back at
 * start.  Logins read it under the read lock; updates take the write lock.
 * A linear table: a server has tens of accounts, not millions.
 */
#include "aj.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void aj_store_init(aj_store *s)
{
    memset(s, 0, sizeof *s);
    pthread_rwlock_init(&s->lock, NULL);
}

void aj_store_free(aj_store *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].pub);
        aj_jwt_free(s->v[i].jwt);
    }
    free(s->v);
    free(s->dir);
    pthread_rwlock_destroy(&s->lock);
}

static ssize_t find(const aj_store *s, const char *pub)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i].pub, pub))
            return (ssize_t)i;
    return -1;
}

const aj_jwt *aj_store_get_locked(const aj_store *s, const char *pub)
{
    ssize_t i = pub ? find(s, pub) : -1;
    return i < 0 ? NULL : s->v[i].jwt;
}

static bool write_file(const char *dir, const char *pub, const char *raw, char *err, size_t errlen)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s.jwt", dir, pub);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return false;
    }
    size_t len = strlen(raw), off = 0;
    while (off < len) {
        ssize_t w = write(fd, raw + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return false;
        }
        off += (size_t)w;
    }
    /* durable before it replaces the old one */
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

aj_put aj_store_put(aj_store *s, aj_jwt *jwt, char *err, size_t errlen)
{
    aj_put rc = AJ_PUT_ERR;
    pthread_rwlock_wrlock(&s->lock);
    ssize_t i = find(s, jwt->sub);
    if (i >= 0 && !strcmp(s->v[i].jwt->raw, jwt->raw)) {
        rc = AJ_PUT_SAME;
        goto out;
    }
    if (i >= 0 && jwt->iat < s->v[i].jwt->iat) {
        snprintf(err, errlen, "the JWT is older than the one held (issued at %lld, held %lld)",
                 (long long)jwt->iat, (long long)s->v[i].jwt->iat);
        goto out;
    }
    if (i < 0 && s->limit > 0 && (int64_t)s->n >= s->limit) {
        snprintf(err, errlen, "the resolver holds its limit of %lld accounts",
                 (long long)s->limit);
        goto out;
    }
    if (s->dir && !write_file(s->dir, jwt->sub, jwt->raw, err, errlen))
        goto out;
    if (i >= 0) {
        aj_jwt_free(s->v[i].jwt);
        s->v[i].jwt = jwt;
        jwt = NULL;
        rc = AJ_PUT_UPDATED;
        goto out;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        aj_entry *nv = realloc(s->v, cap * sizeof *nv);
        if (!nv) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        s->v = nv;
        s->cap = cap;
    }
    if (!(s->v[s->n].pub = strdup(jwt->sub))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    s->v[s->n++].jwt = jwt;
    jwt = NULL;
    rc = AJ_PUT_NEW;
out:
    pthread_rwlock_unlock(&s->lock);
    aj_jwt_free(jwt);
    return rc;
}

bool aj_store_delete(aj_store *s, const char *pub)
{
    pthread_rwlock_wrlock(&s->lock);
    ssize_t i = find(s, pub);
    if (i >= 0) {
        if (s->dir) {
            char path[4096], gone[4200];
            snprintf(path, sizeof path, "%s/%s.jwt", s->dir, pub);
            snprintf(gone, sizeof gone, "%s.deleted", path);
            (void)rename(path, gone);   /* kept for a manual restore */
        }
        free(s->v[i].pub);
        aj_jwt_free(s->v[i].jwt);
        s->v[i] = s->v[--s->n];
    }
    pthread_rwlock_unlock(&s->lock);
    return i >= 0;
}

bool aj_store_keys(aj_store *s, aj_strv *out)
{
    bool ok = true;
    pthread_rwlock_rdlock(&s->lock);
    out->n = 0;
    out->v = calloc(s->n ? s->n : 1, sizeof *out->v);
    ok = out->v != NULL;
    for (size_t i = 0; ok && i < s->n; i++)
        ok = (out->v[out->n++] = strdup(s->v[i].pub)) != NULL;
    pthread_rwlock_unlock(&s->lock);
    if (!ok)
        aj_strv_free(out);
    return ok;
}

char *aj_read_file(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            if (cap > (1u << 20)) {   /* no JWT is a megabyte */
                free(buf);
                fclose(f);
                return NULL;
            }
            char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    return buf;
}

size_t aj_store_load_dir(aj_store *s, bool (*check)(void *ud, const char *file, aj_jwt *j),
                         void *ud, char *err, size_t errlen)
{
    size_t loaded = 0;
    DIR *d = opendir(s->dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", s->dir, strerror(errno));
        return 0;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l != MNK_STR_LEN + 4 || strcmp(de->d_name + MNK_STR_LEN, ".jwt") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", s->dir, de->d_name);
        char *text = aj_read_file(path);
        aj_jwt *j = NULL;
        char e[256];
        bool decoded = text && aj_jwt_decode(text, AJ_ACCOUNT, &j, e, sizeof e);
        if (decoded && strncmp(j->sub, de->d_name, MNK_STR_LEN) == 0 && check(ud, path, j)) {
            /* already on disk: store it in memory only (init: no other thread) */
            char *dir = s->dir;
            s->dir = NULL;
            if (aj_store_put(s, j, e, sizeof e) != AJ_PUT_ERR)
                loaded++;
            s->dir = dir;
        } else {
            if (!decoded || strncmp(j->sub, de->d_name, MNK_STR_LEN) != 0)
                check(ud, path, NULL);
            aj_jwt_free(j);
        }
        free(text);
    }
    closedir(d);
    return loaded;
}
