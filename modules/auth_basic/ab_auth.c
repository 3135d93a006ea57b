/*
 * ab_auth.c - the login decision of auth_basic, as nats-server makes it
 * for the token, single-user and users-list configurations.
 *
 * Pure logic over the immutable ab_conf: what a CONNECT's credentials
 * amount to (defer to another module, refuse, log in without a check as
 * no_auth_user, check an nkey's signature over the nonce, or compare a
 * secret).  The secret comparison itself is left to the caller because a
 * bcrypt one is slow (tens of ms) and must not run on an I/O worker; an
 * Ed25519 check is fast and done here.
 */
#include "ab.h"

#include <string.h>

static bool given(const char *s) { return s && s[0]; }

static ab_decision deny(const char *why)
{
    return (ab_decision){ .verdict = AB_DENY, .reason = why };
}

static ab_decision check(const ab_user *u, const char *stored, bool bcrypt, const char *what)
{
    return (ab_decision){ .verdict = AB_CHECK, .user = u, .stored = stored, .bcrypt = bcrypt,
                          .given = what ? what : "" };
}

/* A password user by name, or an nkey user by public key. */
static const ab_user *find_user(const ab_conf *c, const char *name, bool nkey)
{
    for (size_t i = 0; i < c->nusers; i++)
        if (c->users[i].is_nkey == nkey && strcmp(c->users[i].name, name) == 0)
            return &c->users[i];
    return NULL;
}

/* nats-server's nkey login: the key must be configured and the client
 * must have signed this connection's nonce with it. */
static ab_decision nkey_login(const ab_conf *c, const ab_login *l)
{
    const ab_user *u = find_user(c, l->nkey, true);
    if (!u)
        return deny("unknown nkey");
    if (!given(l->sig))
        return deny("signature missing");
    if (!given(l->nonce))
        return deny("no nonce was sent in INFO");
    if (!mnk_verify_nonce(u->nkey_raw, l->nonce, l->sig))
        return deny("signature not verified");
    return (ab_decision){ .verdict = AB_ALLOW, .user = u };
}

/* verify_and_map: the certificate names the user, as nats-server looks
 * it up: e-mail addresses, then DNS names, then URIs, then the subject in
 * RFC 2253 form.  No password is checked: the verified certificate is
 * the credential. */
static ab_decision cert_login(const ab_conf *c, const modnats_tls_info *t)
{
    const char *const *lists[3] = { t->emails, t->dns, t->uris };
    size_t counts[3] = { t->nemails, t->ndns, t->nuris };
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < counts[k]; i++) {
            const ab_user *u = find_user(c, lists[k][i], false);
            if (u)
                return (ab_decision){ .verdict = AB_ALLOW, .user = u };
        }
    }
    if (t->subject && t->subject[0]) {
        const ab_user *u = find_user(c, t->subject, false);
        if (u)
            return (ab_decision){ .verdict = AB_ALLOW, .user = u };
    }
    return deny("the client certificate maps to no user");
}

ab_decision ab_authenticate(const ab_conf *c, const ab_login *l)
{
    if (c->mode == AB_MODE_NONE)
        return (ab_decision){ .verdict = AB_DEFER };
    if (l->cert) {
        if (!l->cert->has_cert || !l->cert->verified)
            return deny("verify_and_map needs a verified client certificate");
        if (c->mode == AB_MODE_USERS)
            return cert_login(c, l->cert);
        if (c->mode == AB_MODE_USER) {
            ab_conf one = *c;
            one.users = (ab_user *)&c->single;
            one.nusers = 1;
            return cert_login(&one, l->cert);
        }
    }
    bool creds = given(l->user) || given(l->pass) || given(l->token);
    /* JWT logins belong to other modules, and so do nkey logins when no
     * nkey user is configured here. */
    if (!creds && given(l->jwt))
        return (ab_decision){ .verdict = AB_DEFER };
    if (given(l->nkey) && !given(l->jwt) && c->nnkeys > 0)
        return nkey_login(c, l);
    if (!creds && given(l->nkey))
        return (ab_decision){ .verdict = AB_DEFER };

    switch (c->mode) {
    case AB_MODE_TOKEN:
        if (!given(l->token))
            return deny(creds ? "token required, user/password sent" : "no credentials");
        return check(NULL, c->token, c->token_bcrypt, l->token);
    case AB_MODE_USER:
        if (!given(l->user))
            return deny(creds ? "no user name" : "no credentials");
        if (!ab_ct_equal(c->single.name, l->user))
            return deny("unknown user");
        return check(&c->single, c->single.password, c->single.bcrypt, l->pass);
    case AB_MODE_USERS: {
        if (!creds && c->no_auth)
            return (ab_decision){ .verdict = AB_ALLOW, .user = c->no_auth };
        if (!given(l->user))
            return deny(creds ? "no user name" : "no credentials");
        const ab_user *u = find_user(c, l->user, false);
        if (!u)
            return deny("unknown user");
        if (!u->password)
            return deny("user has no password: only a TLS certificate logs it in");
        return check(u, u->password, u->bcrypt, l->pass);
    }
    case AB_MODE_NONE:
        break;
    }
    return (ab_decision){ .verdict = AB_DEFER };
}
