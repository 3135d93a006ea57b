/*
 * acctio.h - sharing between accounts and account limits (ABI 1.1):
 * stream and service exports/imports as routing entries in the
 * exporter's/importer's sublists, the service reply map, account and user
 * limits, the system account.  See docs/modules.md for the contract.
 */
#ifndef MN_ACCTIO_H
#define MN_ACCTIO_H

#include "server.h"

/* The origin of messages that an import carried into another account:
 * non-zero, so LOCAL_ONLY sinks (routes) do not forward them (every
 * server applies its own imports).  Module index 4095 is never given out. */
#define MN_ORIGIN_IMPORT ((modnats_origin)((4095u << 20) | 0xFFFFFu))

/* The host API's ABI 1.1 calls (modnats.h documents them). */
modnats_rc mn_acc_export(modnats_account *a, const modnats_export *e);
modnats_rc mn_acc_import(modnats_account *a, const modnats_import *i);
modnats_rc mn_acc_clear_io(modnats_account *a);
modnats_rc mn_acc_set_limits(modnats_account *a, const modnats_account_limits *l);
modnats_rc mn_acc_set_system(modnats_account *a);
modnats_account *mn_acc_system(void);
modnats_rc mn_acc_conn_login(modnats_conn *c, const modnats_login *l);
modnats_rc mn_acc_conns_close_where(modnats_account *a, const char *user, const char *err);
modnats_rc mn_acc_conn_info(modnats_conn *c, modnats_conn_info *out);
void       mn_acc_conn_info_release(modnats_conn_info *info);

/* After the modules' init: nats-server's default system account "$SYS"
 * when nobody named one, unless the configuration said
 * no_system_account (mn_acc_no_default_system, while reading it). */
void mn_acc_default_system(void);
void mn_acc_no_default_system(bool no);

/* Login: apply the account's and the user's limits to c and count it in
 * its account.  Owner thread.  Returns NULL when admitted, else the
 * -ERR text to close it with. */
const char *mn_acc_admit(mn_client *c);
/* c is closing: uncount it.  Owner thread. */
void mn_acc_leave(mn_client *c);

/* Shutdown: free a's exports, imports and reply map (routing stopped). */
void mn_acc_io_free(mn_account *a);

#endif
