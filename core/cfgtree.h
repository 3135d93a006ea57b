/*
 * cfgtree.h - a configuration tree detached from the file format.
 *
 * Module settings are kept in this small tree rather than in libconfig's
 * objects: it outlives the parsed files, it can be built from the command
 * line (-m, --user ...) or from another file format, and every node
 * remembers the file and line it came from for "file:line: problem".
 * Modules see a node as an opaque modnats_config.
 *
 * Ownership: a tree is freed with mn_cfg_free on its root, which frees
 * every child and string.
 */
#ifndef MN_CFGTREE_H
#define MN_CFGTREE_H

#include "mn.h"

typedef enum { MN_CFG_BOOL = 1, MN_CFG_INT, MN_CFG_FLOAT, MN_CFG_STRING,
               MN_CFG_GROUP, MN_CFG_LIST } mn_cfg_type;

typedef struct mn_cfg {
    char           *name;     /* NULL for list elements */
    mn_cfg_type     type;
    bool            b;
    int64_t         i;
    double          d;
    char           *s;
    struct mn_cfg **kids;     /* GROUP members or LIST elements */
    size_t          nkids;
    char           *file;     /* where it was written; "command line" for flags */
    int             line;
    int             col;      /* 1-based column of the key, 0 when unknown */
    bool            var_used; /* referenced as a $variable (nats-server files) */
} mn_cfg;

mn_cfg *mn_cfg_new(const char *name, mn_cfg_type type, const char *file, int line);
void    mn_cfg_free(mn_cfg *c);
mn_cfg *mn_cfg_dup(const mn_cfg *c);
/* Append kid to a GROUP or LIST (takes ownership).  For a GROUP, a member
 * of the same name is replaced (later settings win). */
int     mn_cfg_add(mn_cfg *parent, mn_cfg *kid);
/* Member of a group by name (ASCII case-insensitive, as nats-server), or NULL. */
mn_cfg *mn_cfg_get(const mn_cfg *group, const char *name);
/* Convenience constructors for synthesised settings (file "command line"). */
int     mn_cfg_set_str(mn_cfg *group, const char *name, const char *v);
int     mn_cfg_set_int(mn_cfg *group, const char *name, int64_t v);

#endif
