/* run_policy.h - the running agent's policies: loaded from a directory
 * (DATA_DIR/policies unless --policy-dir), reloaded on SIGHUP or when a
 * file there changes (inotify). A reload parses and checks the whole new
 * set first; on any error the old set stays in force and the error is
 * returned. Which policies select a resource is cached per resource and
 * recomputed after a reload or once the resource's runtime metadata is
 * known. */
#ifndef VIGIL_RUN_POLICY_H
#define VIGIL_RUN_POLICY_H
#include <stddef.h>
#include <stdint.h>
#include "enrich/enrich.h"
#include "policy/policy.h"

#define RPOL_SEL_MAX 16 /* policies judged per resource */

struct rpol;

/* Loads dir (a missing dir is an empty set). NULL with err on a broken
 * policy: an agent should not start without the policies it was given. */
struct rpol *rpol_open(const char *dir, char *err, size_t errlen);
void rpol_close(struct rpol *rp);
/* inotify fd on dir (readable when something changed), -1 if none */
int rpol_fd(const struct rpol *rp);
/* Drains inotify; 1 if a policy file changed since the last call. */
int rpol_changed(struct rpol *rp);
/* 1 when the new set is in force, -errno with err when the old one was
 * kept. */
int rpol_reload(struct rpol *rp, char *err, size_t errlen);
/* The set in force (borrowed: policyset_ref it to keep it past a reload). */
struct policyset *rpol_set(const struct rpol *rp);
const char *rpol_dir(const struct rpol *rp);
/* Bumped by every successful reload. */
uint64_t rpol_gen(const struct rpol *rp);
/* The policies selecting res (at most RPOL_SEL_MAX, in load order); the
 * pointers stay valid until the next reload. */
size_t rpol_select(struct rpol *rp, const struct resource *res,
		   const struct policy **out);
#endif
