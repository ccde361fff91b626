/* policy_event.h - what the policy language sees of an enriched sensor
 * event: the resource as a selector subject, the event as a query. Pure
 * functions, shared by the agent, `vigil policy test` and the guards. */
#ifndef VIGIL_POLICY_EVENT_H
#define VIGIL_POLICY_EVENT_H
#include <stddef.h>
#include "enrich/enrich.h"
#include "policy/policy.h"

/* Strings point into res (valid while res is). */
void pol_subject_of(const struct resource *res, struct pol_subject *out);

/* Scratch space a query's strings may point into. */
struct pol_query_buf {
	char dns[256];
};

/* Fills q for rec (an event record) with the acting process's view v.
 * Returns 1 if the event is something policies judge (exec, open, unlink,
 * rename, chmod target, connect, bind, listen, dns, privileged
 * operations), 0 otherwise (fork, exit, accept, cgroup, unix sockets...).
 * q's strings point into rec, v or b. */
int pol_query_of(const void *rec, const struct enrich_view *v,
		 struct pol_query *q, struct pol_query_buf *b);

/* Judges one event over the policies sel[0..n): fills q (with b) and
 * writes to out[0] the verdict of the event as its kind, and for an exec
 * of a memfd or deleted file also out[1], its verdict as the privileged
 * operation memfd_exec. Returns how many verdicts had a say (0..2), the
 * ones that did first; kind[i] says what out[i] judged the event as. */
int pol_judge_event(const struct policy *const *sel, size_t n,
		    const void *rec, const struct enrich_view *v,
		    struct pol_query *q, struct pol_query_buf *b,
		    struct pol_verdict out[2], enum pol_kind kind[2]);
#endif
