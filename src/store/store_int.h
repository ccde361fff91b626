/* store_int.h - internals of the model store shared by store.c and
 * store_modes.c. Not for other modules. */
#ifndef VIGIL_STORE_INT_H
#define VIGIL_STORE_INT_H
#include <stddef.h>
#include "store/store.h"

/* The buffer behind store_errmsg() and its size, for the store's other
 * files to explain their failures the same way store.c does. */
char *store_errbuf(struct store *s, size_t *cap);
#endif
