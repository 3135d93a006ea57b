/*
 * cfgtree.c - the format-independent configuration tree (see cfgtree.h).
 */
#include "cfgtree.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

mn_cfg *mn_cfg_new(const char *name, mn_cfg_type type, const char *file, int line)
{
    mn_cfg *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->type = type;
    c->line = line;
    if ((name && !(c->name = strdup(name))) || (file && !(c->file = strdup(file)))) {
        mn_cfg_free(c);
        return NULL;
    }
    return c;
}

void mn_cfg_free(mn_cfg *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nkids; i++)
        mn_cfg_free(c->kids[i]);
    free(c->kids);
    free(c->name);
    free(c->s);
    free(c->file);
    free(c);
}

mn_cfg *mn_cfg_dup(const mn_cfg *c)
{
    mn_cfg *d = mn_cfg_new(c->name, c->type, c->file, c->line);
    if (!d)
        return NULL;
    d->col = c->col;
    d->var_used = c->var_used;
    d->b = c->b;
    d->i = c->i;
    d->d = c->d;
    if (c->s && !(d->s = strdup(c->s))) {
        mn_cfg_free(d);
        return NULL;
    }
    for (size_t k = 0; k < c->nkids; k++) {
        mn_cfg *kid = mn_cfg_dup(c->kids[k]);
        if (!kid || mn_cfg_add(d, kid) != MN_OK) {
            mn_cfg_free(kid);
            mn_cfg_free(d);
            return NULL;
        }
    }
    return d;
}

mn_cfg *mn_cfg_get(const mn_cfg *group, const char *name)
{
    if (!group || group->type != MN_CFG_GROUP)
        return NULL;
    for (size_t i = 0; i < group->nkids; i++)
        if (group->kids[i]->name && strcasecmp(group->kids[i]->name, name) == 0)
            return group->kids[i];
    return NULL;
}

int mn_cfg_add(mn_cfg *parent, mn_cfg *kid)
{
    if (parent->type == MN_CFG_GROUP && kid->name) {
        for (size_t i = 0; i < parent->nkids; i++) {
            if (parent->kids[i]->name && strcasecmp(parent->kids[i]->name, kid->name) == 0) {
                mn_cfg_free(parent->kids[i]);
                parent->kids[i] = kid;
                return MN_OK;
            }
        }
    }
    mn_cfg **k = realloc(parent->kids, (parent->nkids + 1) * sizeof(*k));
    if (!k)
        return MN_ENOMEM;
    parent->kids = k;
    parent->kids[parent->nkids++] = kid;
    return MN_OK;
}

int mn_cfg_set_str(mn_cfg *group, const char *name, const char *v)
{
    mn_cfg *c = mn_cfg_new(name, MN_CFG_STRING, "command line", 0);
    if (!c || !(c->s = strdup(v)) || mn_cfg_add(group, c) != MN_OK) {
        mn_cfg_free(c);
        return MN_ENOMEM;
    }
    return MN_OK;
}

int mn_cfg_set_int(mn_cfg *group, const char *name, int64_t v)
{
    mn_cfg *c = mn_cfg_new(name, MN_CFG_INT, "command line", 0);
    if (!c) return MN_ENOMEM;
    c->i = v;
    if (mn_cfg_add(group, c) != MN_OK) {
        mn_cfg_free(c);
        return MN_ENOMEM;
    }
    return MN_OK;
}
