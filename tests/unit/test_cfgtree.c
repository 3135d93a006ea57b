/*
 * test_cfgtree.c - the configuration tree handed to modules (core/cfgtree.c):
 * building groups and lists, a later member replacing an earlier one of the
 * same name, case-insensitive lookup, deep copies that share nothing with
 * the original, and the command-line setters.  Run under ASan
 * (-DMODNATS_SANITIZE=ON) these also prove that mn_cfg_free releases
 * everything and that replaced members are freed exactly once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgtree.h"

static mn_cfg *str_node(const char *name, const char *v, const char *file, int line)
{
    mn_cfg *c = mn_cfg_new(name, MN_CFG_STRING, file, line);
    assert_non_null(c);
    c->s = strdup(v);
    assert_non_null(c->s);
    return c;
}

static mn_cfg *int_node(const char *name, int64_t v)
{
    mn_cfg *c = mn_cfg_new(name, MN_CFG_INT, "f.conf", 1);
    assert_non_null(c);
    c->i = v;
    return c;
}

static void test_new(void **state)
{
    (void)state;
    mn_cfg *c = mn_cfg_new("port", MN_CFG_INT, "/etc/modnats.conf", 12);
    assert_non_null(c);
    assert_string_equal(c->name, "port");
    assert_int_equal(c->type, MN_CFG_INT);
    assert_string_equal(c->file, "/etc/modnats.conf");
    assert_int_equal(c->line, 12);
    assert_int_equal(c->nkids, 0);
    assert_null(c->kids);
    assert_null(c->s);
    mn_cfg_free(c);

    /* Names and files are copies, and both may be absent. */
    char name[] = "x", file[] = "f";
    c = mn_cfg_new(name, MN_CFG_GROUP, file, 0);
    name[0] = 'y';
    file[0] = 'g';
    assert_string_equal(c->name, "x");
    assert_string_equal(c->file, "f");
    mn_cfg_free(c);
    c = mn_cfg_new(NULL, MN_CFG_LIST, NULL, 0);
    assert_null(c->name);
    assert_null(c->file);
    mn_cfg_free(c);
    mn_cfg_free(NULL);
}

static void test_add_and_replace(void **state)
{
    (void)state;
    mn_cfg *g = mn_cfg_new("auth_basic", MN_CFG_GROUP, "a.conf", 1);
    assert_int_equal(mn_cfg_add(g, str_node("user", "a", "a.conf", 2)), MN_OK);
    assert_int_equal(mn_cfg_add(g, str_node("password", "pa", "a.conf", 3)), MN_OK);
    assert_int_equal(mn_cfg_add(g, int_node("timeout", 2)), MN_OK);
    assert_int_equal(g->nkids, 3);

    /* Same name, any case: replaces in place (order kept), the old node
     * is freed (ASan would see a leak otherwise). */
    assert_int_equal(mn_cfg_add(g, str_node("PassWord", "pb", "b.conf", 7)), MN_OK);
    assert_int_equal(g->nkids, 3);
    assert_string_equal(g->kids[1]->name, "PassWord");
    assert_string_equal(g->kids[1]->s, "pb");
    assert_string_equal(g->kids[1]->file, "b.conf");
    assert_int_equal(g->kids[1]->line, 7);
    assert_string_equal(g->kids[0]->s, "a");
    assert_int_equal(g->kids[2]->i, 2);

    /* A different type may replace a value, too. */
    assert_int_equal(mn_cfg_add(g, int_node("user", 5)), MN_OK);
    assert_int_equal(g->nkids, 3);
    assert_int_equal(g->kids[0]->type, MN_CFG_INT);
    assert_null(g->kids[0]->s);
    mn_cfg_free(g);
}

static void test_list_keeps_everything(void **state)
{
    (void)state;
    /* Lists append, even elements with equal names (and unnamed ones). */
    mn_cfg *l = mn_cfg_new("users", MN_CFG_LIST, "a.conf", 1);
    for (int i = 0; i < 100; i++) {
        mn_cfg *u = mn_cfg_new(NULL, MN_CFG_GROUP, "a.conf", 2 + i);
        assert_int_equal(mn_cfg_add(u, str_node("user", i % 2 ? "odd" : "even", "a.conf", 2 + i)),
                         MN_OK);
        assert_int_equal(mn_cfg_add(l, u), MN_OK);
    }
    assert_int_equal(mn_cfg_add(l, int_node("same", 1)), MN_OK);
    assert_int_equal(mn_cfg_add(l, int_node("same", 2)), MN_OK);
    assert_int_equal(l->nkids, 102);
    assert_int_equal(l->kids[57]->line, 59);
    assert_string_equal(l->kids[57]->kids[0]->s, "odd");
    assert_int_equal(l->kids[100]->i, 1);
    assert_int_equal(l->kids[101]->i, 2);
    /* A list is not a group: no member lookup. */
    assert_null(mn_cfg_get(l, "same"));
    mn_cfg_free(l);
}

static void test_get(void **state)
{
    (void)state;
    mn_cfg *g = mn_cfg_new(NULL, MN_CFG_GROUP, NULL, 0);
    assert_int_equal(mn_cfg_add(g, str_node("No_Auth_User", "guest", "a.conf", 4)), MN_OK);
    assert_int_equal(mn_cfg_add(g, mn_cfg_new(NULL, MN_CFG_INT, NULL, 0)), MN_OK);
    assert_int_equal(mn_cfg_add(g, int_node("port", 1)), MN_OK);
    assert_int_equal(g->nkids, 3);

    assert_string_equal(mn_cfg_get(g, "no_auth_user")->s, "guest");
    assert_string_equal(mn_cfg_get(g, "NO_AUTH_USER")->s, "guest");
    assert_int_equal(mn_cfg_get(g, "Port")->i, 1);
    assert_null(mn_cfg_get(g, "por"));
    assert_null(mn_cfg_get(g, "ports"));
    assert_null(mn_cfg_get(g, ""));
    assert_null(mn_cfg_get(NULL, "port"));
    assert_null(mn_cfg_get(mn_cfg_get(g, "port"), "port"));   /* not a group */
    mn_cfg_free(g);
}

static void test_dup(void **state)
{
    (void)state;
    mn_cfg *g = mn_cfg_new("m", MN_CFG_GROUP, "a.conf", 1);
    mn_cfg *b = mn_cfg_new("on", MN_CFG_BOOL, "a.conf", 2);
    b->b = true;
    mn_cfg *d = mn_cfg_new("ratio", MN_CFG_FLOAT, "a.conf", 3);
    d->d = 0.25;
    mn_cfg *l = mn_cfg_new("subjects", MN_CFG_LIST, "a.conf", 4);
    assert_int_equal(mn_cfg_add(l, str_node(NULL, "foo.>", "a.conf", 4)), MN_OK);
    assert_int_equal(mn_cfg_add(l, str_node(NULL, "bar.*", "a.conf", 5)), MN_OK);
    mn_cfg *sub = mn_cfg_new("inner", MN_CFG_GROUP, "b.conf", 9);
    assert_int_equal(mn_cfg_add(sub, int_node("n", -7)), MN_OK);
    assert_int_equal(mn_cfg_add(g, b), MN_OK);
    assert_int_equal(mn_cfg_add(g, d), MN_OK);
    assert_int_equal(mn_cfg_add(g, l), MN_OK);
    assert_int_equal(mn_cfg_add(g, sub), MN_OK);

    mn_cfg *c = mn_cfg_dup(g);
    assert_non_null(c);
    assert_ptr_not_equal(c, g);
    assert_string_equal(c->name, "m");
    assert_string_equal(c->file, "a.conf");
    assert_int_equal(c->nkids, 4);
    assert_true(mn_cfg_get(c, "on")->b);
    assert_true(mn_cfg_get(c, "ratio")->d == 0.25);
    const mn_cfg *cl = mn_cfg_get(c, "subjects");
    assert_int_equal(cl->type, MN_CFG_LIST);
    assert_int_equal(cl->nkids, 2);
    assert_null(cl->kids[1]->name);
    assert_string_equal(cl->kids[1]->s, "bar.*");
    assert_int_equal(cl->kids[1]->line, 5);
    const mn_cfg *ci = mn_cfg_get(c, "inner");
    assert_string_equal(ci->file, "b.conf");
    assert_int_equal(ci->line, 9);
    assert_int_equal(mn_cfg_get(ci, "n")->i, -7);

    /* Deep: nothing is shared with the original. */
    assert_ptr_not_equal(cl, l);
    assert_ptr_not_equal(cl->kids[0]->s, l->kids[0]->s);
    assert_ptr_not_equal(c->file, g->file);
    l->kids[0]->s[0] = 'X';
    assert_string_equal(cl->kids[0]->s, "foo.>");
    /* Freeing the original leaves the copy whole (ASan checks the reads). */
    mn_cfg_free(g);
    assert_string_equal(mn_cfg_get(ci, "n")->name, "n");
    assert_string_equal(cl->kids[0]->s, "foo.>");
    mn_cfg_free(c);

    /* A lone leaf copies too. */
    mn_cfg *s = str_node("k", "v", NULL, 0);
    mn_cfg *s2 = mn_cfg_dup(s);
    assert_string_equal(s2->s, "v");
    assert_null(s2->file);
    mn_cfg_free(s);
    mn_cfg_free(s2);
}

static void test_setters(void **state)
{
    (void)state;
    mn_cfg *g = mn_cfg_new("monitor", MN_CFG_GROUP, "a.conf", 3);
    assert_int_equal(mn_cfg_add(g, int_node("port", 1)), MN_OK);
    assert_int_equal(mn_cfg_add(g, str_node("host", "h", "a.conf", 4)), MN_OK);

    assert_int_equal(mn_cfg_set_int(g, "PORT", 8222), MN_OK);
    assert_int_equal(mn_cfg_set_str(g, "path", "/varz"), MN_OK);
    assert_int_equal(g->nkids, 3);
    const mn_cfg *p = mn_cfg_get(g, "port");
    assert_int_equal(p->type, MN_CFG_INT);
    assert_int_equal(p->i, 8222);
    assert_string_equal(p->file, "command line");
    assert_int_equal(p->line, 0);
    const mn_cfg *s = mn_cfg_get(g, "path");
    assert_int_equal(s->type, MN_CFG_STRING);
    assert_string_equal(s->s, "/varz");
    assert_string_equal(s->file, "command line");
    assert_string_equal(mn_cfg_get(g, "host")->file, "a.conf");   /* untouched */

    /* Setting again replaces (the old string is freed). */
    assert_int_equal(mn_cfg_set_str(g, "path", "/connz"), MN_OK);
    assert_int_equal(mn_cfg_set_str(g, "host", ""), MN_OK);
    assert_int_equal(mn_cfg_set_int(g, "port", INT64_MIN), MN_OK);
    assert_int_equal(g->nkids, 3);
    assert_string_equal(mn_cfg_get(g, "path")->s, "/connz");
    assert_string_equal(mn_cfg_get(g, "host")->s, "");
    assert_int_equal(mn_cfg_get(g, "host")->type, MN_CFG_STRING);
    assert_true(mn_cfg_get(g, "port")->i == INT64_MIN);
    mn_cfg_free(g);
}

static void test_big_tree_free(void **state)
{
    (void)state;
    /* A deep and wide tree, freed from the root (leaks show under ASan). */
    mn_cfg *root = mn_cfg_new(NULL, MN_CFG_GROUP, NULL, 0);
    mn_cfg *cur = root;
    for (int depth = 0; depth < 50; depth++) {
        char name[32];
        for (int i = 0; i < 20; i++) {
            snprintf(name, sizeof name, "k%d", i);
            assert_int_equal(mn_cfg_set_str(cur, name, "value"), MN_OK);
        }
        mn_cfg *next = mn_cfg_new("child", MN_CFG_GROUP, "deep.conf", depth);
        assert_int_equal(mn_cfg_add(cur, next), MN_OK);
        cur = next;
    }
    mn_cfg *copy = mn_cfg_dup(root);
    size_t depth = 0;
    for (const mn_cfg *n = copy; (n = mn_cfg_get(n, "child")) != NULL; )
        depth++;
    assert_int_equal(depth, 50);
    assert_int_equal(copy->nkids, 21);
    mn_cfg_free(root);
    mn_cfg_free(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new),
        cmocka_unit_test(test_add_and_replace),
        cmocka_unit_test(test_list_keeps_everything),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_dup),
        cmocka_unit_test(test_setters),
        cmocka_unit_test(test_big_tree_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
