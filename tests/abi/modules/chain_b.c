/* chain_b.c - the second module of the chain-order test (see chain_a.c). */
#define CHAIN_B 1
#define CHAIN_NAME "chain_b"
#define CHAIN_TAG_HI "b30"
#define CHAIN_PRIO_HI 30
#define CHAIN_TAG_LO "b10"
#include "chain_a.c"
