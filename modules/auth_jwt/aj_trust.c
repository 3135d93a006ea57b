/*
 * aj_trust.c - the decisions of operator mode, over JWTs aj_jwt.c already
 * decoded: which accounts the trusted operators vouch for, and whether a
 * user JWT (plus the client's nonce signature) logs in to its account.
 * Pure functions, the clock passed in: unit tests drive every branch.
 */
#include "aj.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool aj_trust_account(const aj_trust *t, const aj_jwt *acc, char *err, size_t errlen)
{
    if (aj_strv_has(&t->keys, acc->iss))
        return true;
    snprintf(err, errlen, "account %s is signed by %s, which no trusted operator knows",
             acc->sub, acc->iss);
    return false;
}

static bool revoked_in(const aj_strv *keys, const int64_t *at, const char *pub, int64_t iat)
{
    for (size_t i = 0; i < keys->n; i++)
        if ((!strcmp(keys->v[i], pub) || !strcmp(keys->v[i], "*")) && at[i] >= iat)
            return true;
    return false;
}

bool aj_user_revoked(const aj_jwt *acc, const char *user_pub, int64_t iat)
{
    return revoked_in(&acc->u.acc.rev_keys, acc->u.acc.rev_at, user_pub, iat);
}

bool aj_cidr_match(const char *cidr, const char *ip)
{
    char net[64];
    const char *slash = strchr(cidr, '/');
    size_t nl = slash ? (size_t)(slash - cidr) : strlen(cidr);
    if (!ip || nl == 0 || nl >= sizeof net)
        return false;
    memcpy(net, cidr, nl);
    net[nl] = '\0';
    unsigned char a[16], b[16];
    int fam = strchr(net, ':') ? AF_INET6 : AF_INET;
    size_t len = fam == AF_INET6 ? 16 : 4;
    if (inet_pton(fam, net, a) != 1)
        return false;
    /* an IPv4 client on a dual-stack socket may show as ::ffff:a.b.c.d */
    const char *v4 = strncmp(ip, "::ffff:", 7) == 0 && fam == AF_INET ? ip + 7 : ip;
    if (inet_pton(fam, v4, b) != 1)
        return false;
    long bits = slash ? strtol(slash + 1, NULL, 10) : (long)len * 8;
    if (bits < 0 || bits > (long)len * 8)
        return false;
    for (size_t i = 0; i < len && bits > 0; i++, bits -= 8) {
        unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;
        if ((a[i] & mask) != (b[i] & mask))
            return false;
    }
    return true;
}

static bool in_times(const aj_user *u, int64_t now)
{
    if (u->ntimes == 0)
        return true;
    time_t t = (time_t)now;
    struct tm tm;
    /* times_location (an IANA zone) is not applied: local time, as
     * nats-server uses when none is set.  docs/modules/auth_jwt.md. */
    if (!localtime_r(&t, &tm))
        return false;
    int s = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    for (size_t i = 0; i < u->ntimes; i++) {
        int a = u->times[i].start_s, b = u->times[i].end_s;
        if (a <= b ? (s >= a && s <= b) : (s >= a || s <= b))
            return true;
    }
    return false;
}

const char *aj_check_user(const aj_jwt *acc, const aj_jwt *user, const aj_login_req *r,
                          aj_grant *g)
{
    const aj_account *a = &acc->u.acc;
    /* the issuer: the account itself or one of its signing keys */
    const aj_user *rules = &user->u.user;
    if (strcmp(user->iss, acc->sub) != 0) {
        if (!aj_strv_has(&a->signing_keys, user->iss))
            return "user JWT issuer is neither the account nor one of its signing keys";
        if (!user->issuer_account || strcmp(user->issuer_account, acc->sub) != 0)
            return "user JWT signed by a signing key names another issuer_account";
        for (size_t i = 0; i < a->nscopes; i++)
            if (!strcmp(a->scopes[i].key, user->iss))
                rules = &a->scopes[i].tmpl;   /* scoped key: its template rules */
    } else if (user->issuer_account && strcmp(user->issuer_account, acc->sub) != 0) {
        return "user JWT issuer_account differs from its issuer";
    }
    const char *te = aj_jwt_time_error(user, r->now);
    if (te)
        return !strcmp(te, "expired") ? "user JWT expired" : "user JWT not valid yet";
    if ((te = aj_jwt_time_error(acc, r->now)))
        return !strcmp(te, "expired") ? "account JWT expired" : "account JWT not valid yet";
    if (aj_user_revoked(acc, user->sub, user->iat))
        return "user JWT revoked";
    /* bearer tokens need no proof of the key, unless the account forbids them */
    bool bearer = user->u.user.bearer || rules->bearer;
    if (bearer && a->disallow_bearer)
        return "bearer tokens are not allowed in this account";
    if (!bearer) {
        uint8_t pub[MNK_RAW_LEN];
        if (mnk_decode(user->sub, MNK_USER, pub) != MNK_OK)
            return "user JWT subject is not a user key";
        if (!r->nonce)
            return "no nonce was sent to the client";
        if (!r->sig)
            return "no signature of the nonce";
        if (!mnk_verify_nonce(pub, r->nonce, r->sig))
            return "signature of the nonce does not verify";
    }
    if (rules->conn_types.n > 0 && r->conn_type) {
        bool found = false;
        for (size_t i = 0; i < rules->conn_types.n && !found; i++)
            found = !strcasecmp(rules->conn_types.v[i], r->conn_type);
        if (!found)
            return "connection type not allowed for this user";
    }
    if (rules->src.n > 0) {
        bool found = false;
        for (size_t i = 0; i < rules->src.n && !found; i++)
            found = aj_cidr_match(rules->src.v[i], r->remote_ip);
        if (!found)
            return "source address not allowed for this user";
    }
    if (!in_times(rules, r->now))
        return "outside the user's allowed times";
    g->perms = &rules->perms;
    g->subs = rules->subs;
    g->payload = rules->payload;
    g->data = rules->data;
    g->expires_unix_ms = user->exp > 0 ? user->exp * 1000 : 0;
    return NULL;
}

/* Token-wise containment: every subject sub matches, within matches. */
bool aj_subject_within(const char *sub, const char *within)
{
    const char *s = sub, *w = within;
    for (;;) {
        size_t sl = strcspn(s, "."), wl = strcspn(w, ".");
        if (wl == 1 && w[0] == '>')
            return true;
        if (sl == 1 && s[0] == '>')
            return false;
        if (!(wl == 1 && w[0] == '*') &&
            (sl != wl || memcmp(s, w, sl) != 0 || (sl == 1 && s[0] == '*')))
            return false;
        s += sl;
        w += wl;
        if (!*s || !*w)
            return !*s && !*w;
        s++;
        w++;
    }
}

const char *aj_check_activation(const aj_jwt *exporter, const char *importer,
                                const aj_export *e, const char *subject, const char *token,
                                int64_t now)
{
    if (!token)
        return "the export requires an activation token and the import has none";
    aj_jwt *act = NULL;
    char err[160];
    if (!aj_jwt_decode(token, AJ_ACTIVATION, &act, err, sizeof err))
        return "activation token does not decode";
    const char *why = NULL;
    if (strcmp(act->iss, exporter->sub) != 0 &&
        !(aj_strv_has(&exporter->u.acc.signing_keys, act->iss) && act->issuer_account &&
          !strcmp(act->issuer_account, exporter->sub)))
        why = "activation token not signed by the exporting account";
    else if (strcmp(act->sub, importer) != 0 && strcmp(act->sub, "public") != 0)
        why = "activation token is for another account";
    else if (aj_jwt_time_error(act, now))
        why = "activation token expired or not valid yet";
    else if (!aj_subject_within(subject, act->u.act.subject))
        why = "activation token is for another subject";
    else if (revoked_in(&e->rev_keys, e->rev_at, importer, act->iat))
        why = "activation token revoked";
    aj_jwt_free(act);
    return why;
}
