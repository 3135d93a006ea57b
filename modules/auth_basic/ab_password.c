/*
 * ab_password.c - password and token checks for auth_basic.
 *
 * A configured secret is either plain text, compared in time that does not
 * depend on where it differs from what the client sent, or a bcrypt hash
 * ("$2a$10$..."), checked with libxcrypt's crypt_rn.  Which one is decided
 * exactly as nats-server decides it: a secret that starts like a bcrypt
 * hash is one.
 */
#include "ab.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

bool ab_is_bcrypt(const char *s)
{
    /* "$2" + one of a b x y + "$" + two digits + "$" */
    return s && s[0] == '$' && s[1] == '2' && s[2] && strchr("abxy", s[2]) &&
           s[3] == '$' && s[4] >= '0' && s[4] <= '9' && s[5] >= '0' && s[5] <= '9' &&
           s[6] == '$';
}

static bool bcrypt64_char(char ch)
{
    return ch == '.' || ch == '/' || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9');
}

bool ab_bcrypt_well_formed(const char *s)
{
    if (!ab_is_bcrypt(s) || strlen(s) != 60)
        return false;
    int cost = (s[4] - '0') * 10 + (s[5] - '0');
    if (cost < 4 || cost > 31)
        return false;
    for (size_t i = 7; i < 60; i++)
        if (!bcrypt64_char(s[i]))
            return false;
    return true;
}

bool ab_ct_equal(const char *stored, const char *given)
{
    /* The loop runs over the client's bytes, so its time says nothing of
     * the stored secret beyond what the result says. */
    size_t ls = strlen(stored), lg = strlen(given);
    volatile unsigned char d = (unsigned char)(ls != lg);
    for (size_t i = 0; i < lg; i++) {
        unsigned char sc = i < ls ? (unsigned char)stored[i] : 0;
        d |= (unsigned char)(sc ^ (unsigned char)given[i]);
    }
    return d == 0;
}

bool ab_bcrypt_check(const char *hash, const char *given)
{
    /* struct crypt_data is 32 KB: too big for a small thread stack. */
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        return false;
    /* crypt_rn is crypt_r with the size given and NULL on failure.  It
     * also avoids AddressSanitizer's crypt_r interceptor, which stays NULL
     * when libcrypt arrives with a dlopen'd module and crashes. */
    const char *out = crypt_rn(given, hash, cd, (int)sizeof *cd);
    bool ok = out && out[0] != '*' && ab_ct_equal(hash, out);
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return ok;
}

bool ab_password_check(const char *stored, bool bcrypt, const char *given)
{
    if (!stored || !given)
        return false;
    return bcrypt ? ab_bcrypt_check(stored, given) : ab_ct_equal(stored, given);
}
