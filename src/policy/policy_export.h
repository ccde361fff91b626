/* policy_export.h - a learned model as a policy file: what the model
 * learned becomes allow rules, everything else is blocked by the default
 * posture (`vigil model export KEY --as-policy`, docs/model-cli.md). */
#ifndef VIGIL_POLICY_EXPORT_H
#define VIGIL_POLICY_EXPORT_H
#include <stddef.h>
#include <stdint.h>
#include "model/model.h"

/* The policy name used for a model key when none is given: "learned-" and
 * the key, every byte outside [A-Za-z0-9._-] turned into '-', cut to a
 * valid policy name (at most 63 bytes). out needs 64 bytes. */
void policy_export_name(const char *model_key, char *out, size_t cap);

/* Writes the policy (YAML, the schema of docs/policies.md) that allows what
 * inst learned and blocks other execs and connections:
 *  - selector: inst's resource (container: [id], image: [name],
 *    service: [unit]; the unattributed host model "service:host" gives
 *    host: true);
 *  - rules, all `allow`: one process rule with every learned executable
 *    (file_exec); network rules from net_out, one per protocol and set of
 *    destinations, with the ports that go to exactly that set (so no
 *    address gets a port it did not use); listen rules from net_listen,
 *    one per protocol; a dns rule from dns; file rules from file_read,
 *    file_write, file_create and file_delete, one per access;
 *  - default: {process: block, network: block};
 *  - a comment header naming the model(s), their state and the time;
 *  - as comments after the rules, every item the policy language cannot
 *    express (process parents and users, args, net_in, privilege) or that
 *    is not a valid policy value (a relative path, port 0, an unparsable
 *    address), so nothing is dropped silently.
 * img, when not NULL, is the image model the container model inst inherits
 * from: its items are allowed too (as the engine accepts them). Items are
 * sorted and de-duplicated, so the output is deterministic. policy_name
 * NULL means policy_export_name(model_key(inst)). now_ns is the time
 * written in the header (0: the current time).
 * Returns a malloc'd NUL-terminated text, or NULL with errno (EINVAL: no
 * inst, a bad policy name, img given for a model that is not a container's
 * or not an image model, a key without a resource; ENOMEM) and err set
 * (NUL-terminated, truncated to errlen; err may be NULL if errlen is 0). */
char *policy_from_model(const struct model *inst, const struct model *img,
			const char *policy_name, uint64_t now_ns, char *err,
			size_t errlen);
#endif
