/*
 * mn_nkey.c - NKeys, shared by auth_basic and auth_jwt: the public-key
 * strings of nats-io/nkeys, base64 as CONNECT and JWTs carry it, Ed25519
 * signature checks, and the check of a client's signature over the
 * server's nonce.
 *
 * A public key string is base32 (RFC 4648 alphabet, no padding) of 35
 * bytes: a prefix byte saying what the key is (user, account, ...), the
 * 32-byte Ed25519 public key, and a CRC16-XMODEM of those 33 bytes, little
 * endian.  A client proves it holds a user key by signing the nonce of the
 * server's INFO; the signature arrives base64url-encoded in CONNECT's
 * `sig`.  The curve arithmetic is OpenSSL's (EVP_PKEY_ED25519); nothing
 * here reimplements it.
 */
#include "mn_nkey.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

uint16_t mnk_crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

static bool prefix_known(uint8_t p)
{
    switch (p) {
    case MNK_ACCOUNT: case MNK_CLUSTER: case MNK_SERVER:
    case MNK_OPERATOR: case MNK_USER: case MNK_CURVE:
        return true;
    }
    return false;
}

const char *mnk_prefix_name(uint8_t p)
{
    switch (p) {
    case MNK_ACCOUNT:  return "account";
    case MNK_CLUSTER:  return "cluster";
    case MNK_SERVER:   return "server";
    case MNK_OPERATOR: return "operator";
    case MNK_USER:     return "user";
    case MNK_CURVE:    return "curve";
    case MNK_SEED:     return "seed";
    }
    return "unknown";
}

bool mnk_encode(uint8_t prefix, const uint8_t key[MNK_RAW_LEN], char out[MNK_STR_LEN + 1])
{
    if (!prefix_known(prefix))
        return false;
    uint8_t raw[MNK_BIN_LEN];
    raw[0] = prefix;
    memcpy(raw + 1, key, MNK_RAW_LEN);
    uint16_t crc = mnk_crc16(raw, 1 + MNK_RAW_LEN);
    raw[33] = (uint8_t)(crc & 0xff);
    raw[34] = (uint8_t)(crc >> 8);
    /* 35 bytes are exactly 56 characters: no partial group, no padding */
    size_t o = 0;
    for (size_t i = 0; i < MNK_BIN_LEN; i += 5) {
        uint64_t v = 0;
        for (size_t j = 0; j < 5; j++)
            v = (v << 8) | raw[i + j];
        for (int s = 35; s >= 0; s -= 5)
            out[o++] = b32_alphabet[(v >> s) & 31];
    }
    out[o] = '\0';
    return true;
}

mnk_err mnk_decode(const char *s, uint8_t want_prefix, uint8_t key[MNK_RAW_LEN])
{
    if (!s || strlen(s) != MNK_STR_LEN)
        return MNK_BAD_ENCODING;
    uint8_t raw[MNK_BIN_LEN];
    size_t o = 0;
    for (size_t i = 0; i < MNK_STR_LEN; i += 8) {
        uint64_t v = 0;
        for (size_t j = 0; j < 8; j++) {
            const char *p = s[i + j] ? strchr(b32_alphabet, s[i + j]) : NULL;
            if (!p)
                return MNK_BAD_ENCODING;
            v = (v << 5) | (uint64_t)(p - b32_alphabet);
        }
        for (int sh = 32; sh >= 0; sh -= 8)
            raw[o++] = (uint8_t)(v >> sh);
    }
    uint16_t crc = (uint16_t)(raw[33] | (raw[34] << 8));
    if (mnk_crc16(raw, 1 + MNK_RAW_LEN) != crc)
        return MNK_BAD_CRC;
    if (raw[0] != want_prefix || !prefix_known(raw[0]))
        return MNK_BAD_PREFIX;
    memcpy(key, raw + 1, MNK_RAW_LEN);
    return MNK_OK;
}

const char *mnk_strerror(mnk_err e)
{
    switch (e) {
    case MNK_OK:           return "ok";
    case MNK_BAD_ENCODING: return "not a base32 key of 56 characters";
    case MNK_BAD_CRC:      return "checksum mismatch";
    case MNK_BAD_PREFIX:   return "wrong kind of key";
    }
    return "?";
}

static int b64_value(char ch, bool *url, bool *std)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '-' || ch == '_') { *url = true; return ch == '-' ? 62 : 63; }
    if (ch == '+' || ch == '/') { *std = true; return ch == '+' ? 62 : 63; }
    return -1;
}

bool mnk_base64_decode(const char *s, uint8_t *out, size_t cap, size_t *outlen)
{
    size_t n = strlen(s);
    size_t pad = 0;
    while (n > 0 && s[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    /* padding, when present, must complete the last group */
    if (pad && (n + pad) % 4 != 0)
        return false;
    if (n % 4 == 1)
        return false;
    bool url = false, std = false;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(s[i], &url, &std);
        if (v < 0 || (url && std))
            return false;   /* not base64, or both alphabets mixed */
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return false;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* leftover bits must be zero (canonical encoding, as Go's decoder) */
    if (bits && (acc & ((1u << bits) - 1)))
        return false;
    *outlen = o;
    return true;
}

bool mnk_ed25519_verify(const uint8_t pub[MNK_RAW_LEN], const void *msg, size_t len,
                       const uint8_t *sig, size_t siglen)
{
    if (siglen != 64)
        return false;
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, MNK_RAW_LEN);
    if (!pk)
        return false;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
              EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return ok;
}

bool mnk_verify_nonce(const uint8_t pub[MNK_RAW_LEN], const char *nonce, const char *sig)
{
    uint8_t raw[96];
    size_t n = 0;
    if (!nonce || !sig || !mnk_base64_decode(sig, raw, sizeof raw, &n))
        return false;
    return mnk_ed25519_verify(pub, nonce, strlen(nonce), raw, n);
}

bool mnk_ed25519_keygen(uint8_t pub[MNK_RAW_LEN], uint8_t priv[MNK_RAW_LEN])
{
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    size_t pl = MNK_RAW_LEN, sl = MNK_RAW_LEN;
    bool ok = ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &pk) == 1 &&
              EVP_PKEY_get_raw_public_key(pk, pub, &pl) == 1 &&
              EVP_PKEY_get_raw_private_key(pk, priv, &sl) == 1 &&
              pl == MNK_RAW_LEN && sl == MNK_RAW_LEN;
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

bool mnk_random(void *buf, size_t n)
{
    return n <= INT32_MAX && RAND_bytes(buf, (int)n) == 1;
}

bool mnk_ed25519_sign(const uint8_t priv[MNK_RAW_LEN], const void *msg, size_t len, uint8_t sig[64])
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, MNK_RAW_LEN);
    if (!pk)
        return false;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t sl = 64;
    bool ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) == 1 &&
              EVP_DigestSign(ctx, sig, &sl, msg, len) == 1 && sl == 64;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return ok;
}

size_t mnk_base64url_encode(const uint8_t *in, size_t n, char *out)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t k = n - i >= 3 ? 3 : n - i;
        if (k > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (k > 2)
            v |= in[i + 2];
        for (size_t j = 0; j <= k; j++)
            out[o++] = tbl[(v >> (18 - 6 * j)) & 63];
    }
    out[o] = '\0';
    return o;
}
