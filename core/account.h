/*
 * account.h - the account registry: one routing space (sublist) each.
 *
 * Accounts are created at start-up (configuration, modules' init) or later
 * by auth modules; they are never freed before shutdown, so a pointer to
 * one stays valid for the life of the server.
 */
#ifndef MN_ACCOUNT_H
#define MN_ACCOUNT_H

#include "server.h"

/* The account named name, or NULL. Any thread. */
mn_account *mn_account_get(const char *name);
/* The account named name, created if needed; NULL when out of memory. */
mn_account *mn_account_get_or_create(const char *name);
/* Visit every account (under the registry lock: fn must not create). */
void        mn_account_foreach(void (*fn)(mn_account *a, void *arg), void *arg);
/* Free every account; at shutdown only. */
void        mn_accounts_free(void);

#endif
