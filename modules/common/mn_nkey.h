/*
 * mn_nkey.h - NKeys and Ed25519 signatures, shared by the auth modules
 * (auth_basic, auth_jwt).  Built as the static PIC library `mn_nkey`
 * (modules/common/CMakeLists.txt) and linked into each module .so, so
 * there is one implementation and no exported symbol.  Not part of the
 * SDK: modules outside this tree carry their own.
 *
 * Pure functions over caller-owned buffers; nothing is allocated that
 * outlives a call.  Thread-safe.
 */
#ifndef MN_NKEY_H
#define MN_NKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* NKey prefix bytes (nats-io/nkeys) and sizes. */
enum {
    MNK_ACCOUNT  = 0,        /* "A..." */
    MNK_CLUSTER  = 2 << 3,   /* "C..." */
    MNK_SERVER   = 13 << 3,  /* "N..." */
    MNK_OPERATOR = 14 << 3,  /* "O..." */
    MNK_SEED     = 18 << 3,  /* "S...": private seeds, never accepted here */
    MNK_USER     = 20 << 3,  /* "U..." */
    MNK_CURVE    = 23 << 3,  /* "X..." */
};
#define MNK_RAW_LEN 32   /* an Ed25519 public key */
#define MNK_BIN_LEN 35   /* prefix + key + CRC16 */
#define MNK_STR_LEN 56   /* its base32 */

typedef enum mnk_err {
    MNK_OK = 0,
    MNK_BAD_ENCODING,   /* not 56 characters of the base32 alphabet */
    MNK_BAD_CRC,
    MNK_BAD_PREFIX,     /* a valid key, but not of the kind wanted */
} mnk_err;

/* CRC16-XMODEM (poly 0x1021, init 0), as nkeys computes it. */
uint16_t    mnk_crc16(const uint8_t *p, size_t n);
/* Decode a public key string whose prefix must be want_prefix. */
mnk_err     mnk_decode(const char *s, uint8_t want_prefix, uint8_t key[MNK_RAW_LEN]);
/* Encode a public key; false for an unknown prefix. */
bool        mnk_encode(uint8_t prefix, const uint8_t key[MNK_RAW_LEN],
                       char out[MNK_STR_LEN + 1]);
const char *mnk_strerror(mnk_err e);
const char *mnk_prefix_name(uint8_t prefix);
/* base64 in either alphabet (URL or standard, not mixed), padded or not,
 * canonical.  False when it is not, or when it exceeds cap bytes. */
bool        mnk_base64_decode(const char *s, uint8_t *out, size_t cap, size_t *outlen);
/* Ed25519 verification through OpenSSL. */
bool        mnk_ed25519_verify(const uint8_t pub[MNK_RAW_LEN], const void *msg, size_t len,
                               const uint8_t *sig, size_t siglen);
/* A fresh Ed25519 key pair (OpenSSL's random source).  priv is the 32-byte
 * seed; keep it secret and wipe it when done. */
bool        mnk_ed25519_keygen(uint8_t pub[MNK_RAW_LEN], uint8_t priv[MNK_RAW_LEN]);
/* n bytes from OpenSSL's random source. */
bool        mnk_random(void *buf, size_t n);
/* Sign msg with the seed priv: 64 bytes into sig. */
bool        mnk_ed25519_sign(const uint8_t priv[MNK_RAW_LEN], const void *msg, size_t len,
                             uint8_t sig[64]);
/* base64url without padding (as JWTs carry it) of n bytes into out, which
 * holds at least mnk_base64url_len(n) bytes; returns the string length. */
#define mnk_base64url_len(n) (((n) * 4 + 2) / 3 + 1)
size_t      mnk_base64url_encode(const uint8_t *in, size_t n, char *out);
/* Is sig (base64, as CONNECT carries it) pub's signature of the nonce? */
bool        mnk_verify_nonce(const uint8_t pub[MNK_RAW_LEN], const char *nonce,
                             const char *sig);

#endif
