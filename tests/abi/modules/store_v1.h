/*
 * store_v1.h - the interface svc_store offers as service "store" v1 and
 * svc_user looks up: what a module publishes for others to include.  The
 * struct carries its size first so v1 can grow at the end.
 */
#ifndef ABI_STORE_V1_H
#define ABI_STORE_V1_H

#include <stddef.h>

typedef struct abi_store_v1 {
    size_t size;
    /* Copy key and value in; 0 on success.  Thread-safe. */
    int (*put)(const char *key, const char *value);
    /* Copy the value of key into out (NUL-terminated); 0 if found. */
    int (*get)(const char *key, char *out, size_t cap);
} abi_store_v1;

#endif
