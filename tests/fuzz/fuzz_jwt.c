/*
 * fuzz_jwt.c - libFuzzer target for auth_jwt's JWT decoder
 * (modules/auth_jwt/aj_jwt.c and modules/common/mn_nkey.c, compiled into
 * this target): a user JWT is the first thing an unauthenticated client
 * sends.  The input is decoded as every kind, and as a file holding a JWT;
 * whatever decodes must have its mandatory fields and a kind that was asked
 * for.  Random bytes never carry a valid signature, so the input is also
 * taken as the claims JSON of a token this target signs itself, with
 * "@OPK@" and "@ACK@" replaced by the operator and account keys it signs
 * with: that reaches the claims parsers (accounts, users, exports,
 * imports, revocations, scoped keys).  The fixture JWTs
 * (tests/gen/jwt_fixtures.h, made by Go nats-io/jwt/v2) must decode, or the
 * target proves nothing.  Seeds in corpus/jwt/: tokens and claims.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aj.h"
#include "jwt_fixtures.h"

static uint8_t op_priv[MNK_RAW_LEN], acc_priv[MNK_RAW_LEN];
static char op_key[MNK_STR_LEN + 1], acc_key[MNK_STR_LEN + 1];

static char *signed_token(const char *claims, const uint8_t *priv);

static const aj_kind kinds[] = { 0, AJ_OPERATOR, AJ_ACCOUNT, AJ_USER, AJ_ACTIVATION,
                                 AJ_GENERIC, AJ_AUTH_RESPONSE };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    uint8_t pub[MNK_RAW_LEN];
    if (!mnk_ed25519_keygen(pub, op_priv) || !mnk_encode(MNK_OPERATOR, pub, op_key) ||
        !mnk_ed25519_keygen(pub, acc_priv) || !mnk_encode(MNK_ACCOUNT, pub, acc_key))
        abort();
    aj_jwt *j = NULL;
    char err[256];
    if (!aj_jwt_decode(FXJ_A_JWT, AJ_ACCOUNT, &j, err, sizeof err))
        abort();
    aj_jwt_free(j);
    if (!aj_jwt_decode(FXJ_ALICE_PERMS_JWT, AJ_USER, &j, err, sizeof err))
        abort();
    aj_jwt_free(j);
    /* the self-signed path must reach the claims, or it proves nothing */
    char *t = signed_token("{\"iss\":\"@ACK@\",\"sub\":\"" FXJ_ALICE_PUB "\","
                           "\"nats\":{\"type\":\"user\",\"version\":2,\"subs\":7}}", acc_priv);
    if (!t || !aj_jwt_decode(t, AJ_USER, &j, err, sizeof err) || j->u.user.subs != 7)
        abort();
    aj_jwt_free(j);
    free(t);
    return 0;
}

static void decode_all(const char *s)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        aj_jwt *j = NULL;
        char err[256];
        if (aj_jwt_decode(s, kinds[i], &j, err, sizeof err)) {
            if (!j || !j->iss || !j->sub || (kinds[i] && j->kind != kinds[i]))
                abort();
            (void)aj_jwt_time_error(j, 1700000000);
            aj_jwt_free(j);
        } else if (j || !err[0]) {
            abort();   /* a failure leaves nothing behind and says why */
        }
    }
}

/* claims with the placeholders replaced, signed by priv: a token. */
static char *signed_token(const char *claims, const uint8_t *priv)
{
    static const char hdr[] = "{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}";
    size_t n = strlen(claims), cnt = 0;
    for (const char *p = claims; (p = strchr(p, '@')); p++)
        cnt++;
    char *c = malloc(n + cnt * MNK_STR_LEN + 1), *o = c;
    if (!c)
        return NULL;
    for (const char *p = claims; *p;) {
        if (!strncmp(p, "@OPK@", 5) || !strncmp(p, "@ACK@", 5)) {
            const char *k = p[1] == 'O' ? op_key : acc_key;
            memcpy(o, k, MNK_STR_LEN);
            o += MNK_STR_LEN;
            p += 5;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    size_t cl = (size_t)(o - c);
    char *t = malloc(mnk_base64url_len(sizeof hdr) + mnk_base64url_len(cl) +
                     mnk_base64url_len(64) + 2);
    if (t) {
        size_t m = mnk_base64url_encode((const uint8_t *)hdr, sizeof hdr - 1, t);
        t[m++] = '.';
        m += mnk_base64url_encode((const uint8_t *)c, cl, t + m);
        uint8_t sig[64];
        if (!mnk_ed25519_sign(priv, t, m, sig))
            abort();
        t[m++] = '.';
        mnk_base64url_encode(sig, sizeof sig, t + m);
    }
    free(c);
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    decode_all(s);
    char *t = aj_jwt_extract(s);
    free(t);
    if (strlen(s) == size && s[0] == '{') {
        const uint8_t *privs[2] = { op_priv, acc_priv };
        for (size_t i = 0; i < 2; i++) {
            char *tok = signed_token(s, privs[i]);
            if (tok)
                decode_all(tok);
            free(tok);
        }
    }
    free(s);
    return 0;
}
