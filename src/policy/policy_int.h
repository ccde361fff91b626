/* policy_int.h - what the files of src/policy share and nothing else
 * includes: building and freeing a set, and the names of enumerations
 * (index: the enum value, or the bit number of a POL_ACC_* / POL_PRIV_*
 * flag). */
#ifndef VIGIL_POLICY_INT_H
#define VIGIL_POLICY_INT_H
#include "policy/policy.h"

#define POL_N_ACC 5  /* POL_ACC_READ .. POL_ACC_DELETE */
#define POL_N_PRIV 9 /* POL_PRIV_SETUID .. POL_PRIV_MEMFD_EXEC */

extern const char *const pol_action_names[4];
extern const char *const pol_kind_names[4];
extern const char *const pol_sev_names[4];
extern const char *const pol_access_names[POL_N_ACC];
extern const char *const pol_priv_names[POL_N_PRIV];

/* An empty set with one reference (NULL, errno ENOMEM). */
struct policyset *pol_set_new(void);
/* Frees s and every policy in it whatever its count (NULL: nothing). */
void pol_set_free(struct policyset *s);

#endif
