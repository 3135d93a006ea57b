/*
 * fuzz_nkey.c - libFuzzer target for the shared NKey code
 * (modules/common/mn_nkey.c, compiled into this target).
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

#include "mn_nkey.h"
#include "nkey_fixtures.h"

static const uint8_t prefixes[] = {
    MNK_ACCOUNT, MNK_CLUSTER, MNK_SERVER, MNK_OPERATOR,
    MNK_SEED, MNK_USER, MNK_CURVE, 1, 255,
};
#define NPREFIXES (sizeof prefixes / sizeof prefixes[0])

static uint8_t g_user[MNK_RAW_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    /* The fixtures must work, or every check below proves nothing. */
    if (mnk_decode(FX_USER_PUB, MNK_USER, g_user) != MNK_OK ||
        !mnk_verify_nonce(g_user, FX_NONCE, FX_SIG_RAWURL) ||
        mnk_verify_nonce(g_user, FX_NONCE, FX_SIG_OTHER_NONCE))
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
        uint8_t raw[MNK_RAW_LEN];
        mnk_err e = mnk_decode(key, prefixes[i], raw);
        if (!mnk_strerror(e) || !mnk_prefix_name(prefixes[i]))
            abort();
        if (e != MNK_OK)
            continue;
        accepted++;
        if (prefixes[i] == MNK_SEED || prefixes[i] == 1 || prefixes[i] == 255)
            abort();   /* only public-key prefixes may decode */
        char again[MNK_STR_LEN + 1];
        if (!mnk_encode(prefixes[i], raw, again) || strcmp(again, key) != 0)
            abort();   /* decode and encode disagree */
        (void)mnk_verify_nonce(raw, nonce, sig);
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
    (void)mnk_verify_nonce(g_user, nonce, sig);
    (void)mnk_verify_nonce(g_user, key, nonce);

    uint8_t b64[96];
    size_t n = 0;
    if (mnk_base64_decode(sig, b64, sizeof b64, &n) && n > sizeof b64)
        abort();

    /* Arbitrary bytes as key, signature and message: most keys are not
     * points on the curve, and every answer but a crash is acceptable. */
    if (size >= MNK_RAW_LEN + 64) {
        (void)mnk_ed25519_verify(data, data + MNK_RAW_LEN + 64,
                                size - MNK_RAW_LEN - 64, data + MNK_RAW_LEN, 64);
        /* Every 32 bytes encode under each public prefix and decode back. */
        for (size_t i = 0; i < NPREFIXES; i++) {
            char s[MNK_STR_LEN + 1];
            uint8_t back[MNK_RAW_LEN];
            if (!mnk_encode(prefixes[i], data, s))
                continue;
            if (strlen(s) != MNK_STR_LEN ||
                mnk_decode(s, prefixes[i], back) != MNK_OK ||
                memcmp(back, data, MNK_RAW_LEN) != 0)
                abort();
        }
    }
    free(key);
    free(nonce);
    free(sig);
    return 0;
}
