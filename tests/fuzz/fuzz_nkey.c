/*
 * fuzz_nkey.c - libFuzzer target for auth_basic's NKey code
 * (modules/auth_basic/ab_nkey.c, compiled into this target).
 *
 * An input is up to three lines: a key string, a nonce, a signature (as
 * CONNECT's `sig` carries it).  The key is decoded as a public key of
 * every prefix: at most one prefix may accept it, and a key that decodes
 * must encode back to the very same string.  The signature is checked over
 * the nonce against the decoded key and a fixed valid key, and the raw
 * input bytes are used as an arbitrary 32-byte point, 64-byte signature
 * and message: any answer is fine, a crash or sanitizer report is a bug.
 * Seeds in corpus/nkey/ come from tests/gen/nkey_fixtures.h.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ab.h"
#include "nkey_fixtures.h"

static const uint8_t prefixes[] = {
    AB_NKEY_ACCOUNT, AB_NKEY_CLUSTER, AB_NKEY_SERVER, AB_NKEY_OPERATOR,
    AB_NKEY_SEED, AB_NKEY_USER, AB_NKEY_CURVE, 1, 255,
};
#define NPREFIXES (sizeof prefixes / sizeof prefixes[0])

static uint8_t g_user[AB_NKEY_RAW_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    /* The fixtures must work, or every check below proves nothing. */
    if (ab_nkey_decode(FX_USER_PUB, AB_NKEY_USER, g_user) != AB_NKEY_OK ||
        !ab_nkey_verify_nonce(g_user, FX_NONCE, FX_SIG_RAWURL) ||
        ab_nkey_verify_nonce(g_user, FX_NONCE, FX_SIG_OTHER_NONCE))
        abort();
    return 0;
}

/* The next line of [*p, end) as a malloc'd string (NUL bytes kept inside:
 * the decoder sees only what precedes the first). */
static char *next_line(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *s = *p;
    const uint8_t *nl = memchr(s, '\n', (size_t)(end - s));
    const uint8_t *e = nl ? nl : end;
    char *out = malloc((size_t)(e - s) + 1);
    if (!out)
        abort();
    memcpy(out, s, (size_t)(e - s));
    out[e - s] = '\0';
    *p = nl ? nl + 1 : end;
    return out;
}

static void check_key(const char *key, const char *nonce, const char *sig)
{
    int accepted = 0;
    for (size_t i = 0; i < NPREFIXES; i++) {
        uint8_t raw[AB_NKEY_RAW_LEN];
        ab_nkey_err e = ab_nkey_decode(key, prefixes[i], raw);
        if (!ab_nkey_strerror(e) || !ab_nkey_prefix_name(prefixes[i]))
            abort();
        if (e != AB_NKEY_OK)
            continue;
        accepted++;
        if (prefixes[i] == AB_NKEY_SEED || prefixes[i] == 1 || prefixes[i] == 255)
            abort();   /* only public-key prefixes may decode */
        char again[AB_NKEY_STR_LEN + 1];
        if (!ab_nkey_encode(prefixes[i], raw, again) || strcmp(again, key) != 0)
            abort();   /* decode and encode disagree */
        (void)ab_nkey_verify_nonce(raw, nonce, sig);
    }
    if (accepted > 1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *key = next_line(&p, end);
    char *nonce = next_line(&p, end);
    char *sig = next_line(&p, end);

    check_key(key, nonce, sig);
    (void)ab_nkey_verify_nonce(g_user, nonce, sig);
    (void)ab_nkey_verify_nonce(g_user, key, nonce);

    uint8_t b64[96];
    size_t n = 0;
    if (ab_base64_decode(sig, b64, sizeof b64, &n) && n > sizeof b64)
        abort();

    /* Arbitrary bytes as key, signature and message: most keys are not
     * points on the curve, and every answer but a crash is acceptable. */
    if (size >= AB_NKEY_RAW_LEN + 64) {
        (void)ab_ed25519_verify(data, data + AB_NKEY_RAW_LEN + 64,
                                size - AB_NKEY_RAW_LEN - 64, data + AB_NKEY_RAW_LEN, 64);
        /* Every 32 bytes encode under each public prefix and decode back. */
        for (size_t i = 0; i < NPREFIXES; i++) {
            char s[AB_NKEY_STR_LEN + 1];
            uint8_t back[AB_NKEY_RAW_LEN];
            if (!ab_nkey_encode(prefixes[i], data, s))
                continue;
            if (strlen(s) != AB_NKEY_STR_LEN ||
                ab_nkey_decode(s, prefixes[i], back) != AB_NKEY_OK ||
                memcmp(back, data, AB_NKEY_RAW_LEN) != 0)
                abort();
        }
    }
    free(key);
    free(nonce);
    free(sig);
    return 0;
}
