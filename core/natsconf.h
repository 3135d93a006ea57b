/*
 * natsconf.h - nats-server's own configuration format, read into the same
 * mn_cfg tree (cfgtree.h) as the native libconfig files, so that a
 * nats-server config file can be handed to modnats as it is.
 *
 * The reader follows what nats-server 2.9 accepts: `key: value`,
 * `key = value`, `key value`, `key { ... }`, `[ ... ]` lists with or
 * without commas, `#` and `//` comments, "double" (with escapes) and
 * 'single' quoted strings, bare strings (URLs, IP:port, words), `( ... )`
 * text blocks, numbers with size suffixes (64MB, 1k, 10TB), booleans
 * (true/false/yes/no/on/off), `$VAR` variables (earlier keys of the
 * enclosing blocks, then the environment), `include FILE` relative to the
 * including file, a top-level `{ ... }` wrapper and a stray closing brace
 * at the end of the file.
 *
 * Typing, as nats-server types values: 64MB is an MN_CFG_INT (67108864)
 * whose `s` keeps the text as written ("64MB"), so the core can read a
 * unit-bearing literal as a duration where a duration is meant (2m);
 * 10s and other words are strings, 0.5 a float.  Every node carries file,
 * line and 1-based column of its key (or list element); a key referenced
 * as a variable is marked var_used.
 *
 * Errors read "file:line:col: problem".  Ownership: a returned tree
 * belongs to the caller (mn_cfg_free).
 */
#ifndef MN_NATSCONF_H
#define MN_NATSCONF_H

#include "cfgtree.h"

#include <stdio.h>

/* Parse the file at path.  MN_OK with *out a GROUP (name NULL); MN_EINVAL
 * with the message in err; MN_ENOMEM. */
int mn_natsconf_parse_file(const char *path, mn_cfg **out, char *err, size_t errlen);

/* Parse text (len bytes, need not be NUL-terminated); name is the file
 * name used in nodes and messages, and the base for includes. */
int mn_natsconf_parse(const char *text, size_t len, const char *name, mn_cfg **out,
                      char *err, size_t errlen);

typedef enum { MN_CONF_LIBCONFIG = 0, MN_CONF_NATS } mn_conf_format;

/* Which syntax a config file's text is written in (see the rule in
 * natsconf.c and docs/configuration.md): libconfig unless the text shows
 * nats-server-only syntax and nothing libconfig-only. */
mn_conf_format mn_natsconf_detect(const char *text, size_t len);

/* Print a tree (a root GROUP) in libconfig syntax.  MN_EINVAL with a
 * message in err when something cannot be said in libconfig (a key name
 * libconfig does not allow). */
int mn_natsconf_print_libconfig(FILE *f, const mn_cfg *root, char *err, size_t errlen);

/* --- implemented in config.c, which knows the keys --- */

/* modnats --convert FILE: read FILE (either format, as -c would) and print
 * the equivalent libconfig file to out.  0, or MN_EINVAL/MN_ENOMEM with
 * "file:line[:col]: problem" in err. */
int mn_config_convert(const char *path, FILE *out, char *err, size_t errlen);

/* modnats --convert FILE --confd DIR: the same conversion as a conf.d
 * layout written into DIR (created if missing; refused if it already holds
 * .conf files), for `modnats --confd DIR`: 00-server.conf with the
 * server's own keys, then one NN-module.conf per module (its
 * `modules = ["x"];` line, its group and the nats-server keys it serves:
 * authorization/accounts/no_auth_user -> auth_basic, http* -> monitor,
 * cluster -> cluster), numbered in the order the modules would load from
 * the single file.  Nothing is written unless the whole file converts.
 * 0, or MN_EINVAL/MN_ENOMEM with the problem in err. */
int mn_config_convert_confd(const char *path, const char *dir, char *err, size_t errlen);

/* --convert FILE on the command line sets this bit of mn_opts.cli_set and
 * puts FILE in mn_opts.config_file; main() then calls mn_config_convert()
 * instead of running the server. */
#define MN_OPT_CONVERT (1ull << 63)

#endif
