/*
 * no_entry.c - a shared object that is not a modnats module: it exports a
 * function, but not modnats_module_entry.  The core must refuse it.
 */
#include <modnats/modnats.h>

__attribute__((visibility("default"))) int not_a_modnats_entry(void);
__attribute__((visibility("default"))) int not_a_modnats_entry(void)
{
    return 42;
}
