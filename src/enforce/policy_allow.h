/* policy_allow.h - turns learned models into allow decisions for the
 * guards: which executables a protected container may run (execguard) and
 * which ports it may connect to or listen on (netguard).
 *
 * Executables: a file may run when gen_path(file) is a DIM_FILE_EXEC item
 * of the instance or image model, or an item's pattern matches it
 * (gen_match). Drift overrides that: a file written in the container after
 * it started is denied even when its pattern is known. The sensor learns
 * the *final* binary of an exec (the interpreter of a script, never the
 * dynamic loader), so two kinds of exec-opens are allowed without a model
 * item unless they are drift: scripts ("#!": their interpreter gets its own
 * check) and the dynamic loader (ld-linux*, ld-musl*).
 *
 * Ports: DIM_NET_OUT items ("tcp 10.0.0.0/24:443", "udp fd00::/64:53")
 * give outbound {proto, port}; DIM_NET_LISTEN items ("tcp :8080") listening
 * ones. Addresses are not enforced (the kernel check is per port).
 *
 * The model functions read models and must run where the models live (the
 * agent's main thread). struct policy_execset is a snapshot for the
 * execguard thread: built from models on the main thread, read by the
 * decision thread; all its functions are thread-safe (a rwlock).
 * Functions returning int give 0 or -errno unless stated otherwise. */
#ifndef VIGIL_POLICY_ALLOW_H
#define VIGIL_POLICY_ALLOW_H
#include <stddef.h>
#include <stdint.h>
#include "model/model.h"

/* 1 if exe_path (a concrete path) is a known DIM_FILE_EXEC item of inst or
 * img (either may be NULL), exactly after gen_path or by gen_match; else 0. */
int policy_allow_exec(const struct model *inst, const struct model *img,
		      const char *exe_path);

enum policy_verdict {
	POLICY_ALLOW = 0,
	POLICY_DENY_UNKNOWN = 1, /* not in the model */
	POLICY_DENY_DRIFT = 2,	 /* written after the container started */
};

/* 1 if path was written in the container after it started; ctx is the
 * caller's (e.g. the engine's written-files set). */
typedef int (*policy_written_fn)(void *ctx, const char *path);

/* policy_allow_exec plus the drift rule (written may be NULL). */
enum policy_verdict policy_exec_verdict(const struct model *inst,
					const struct model *img,
					const char *exe_path,
					policy_written_fn written, void *wctx);

/* "allow", "not in the learned model", "drift: written after start" */
const char *policy_verdict_reason(enum policy_verdict v);

/* 1 if path names a dynamic loader (ld-linux*.so*, ld-*.so*, ld-musl-*). */
int policy_is_loader(const char *path);

/* --- ports --- */
struct policy_port {
	uint8_t proto; /* 6 = tcp, 17 = udp */
	uint16_t port;
};

/* "tcp 127.0.0.0/24:8080", "udp fd00::/64:53", "tcp :8080" -> {proto,
 * port}. -EINVAL for anything else (other protocols, no port). */
int policy_parse_net_item(const char *item, struct policy_port *out);

/* The distinct {proto, port} of dim (DIM_NET_OUT or DIM_NET_LISTEN) in
 * inst and img (either may be NULL), in first-seen order. Writes up to cap
 * and returns how many there are in all (> cap means out was too small). */
size_t policy_ports(const struct model *inst, const struct model *img,
		    enum model_dim dim, struct policy_port *out, size_t cap);

/* --- the execguard's snapshot --- */
#define POLICY_EXECSET_CAP 4096	  /* patterns */
#define POLICY_WRITTEN_CAP 16384  /* written paths remembered */

struct policy_execset;

struct policy_execset *policy_execset_new(void);
void policy_execset_free(struct policy_execset *s);
/* Adds one pattern (gen_path syntax); duplicates are ignored. -ENOSPC past
 * POLICY_EXECSET_CAP. */
int policy_execset_add(struct policy_execset *s, const char *pattern);
/* Adds every DIM_FILE_EXEC item of m (NULL is fine). */
int policy_execset_add_model(struct policy_execset *s, const struct model *m);
/* Drops all patterns (written paths and since are kept). */
void policy_execset_clear(struct policy_execset *s);
/* Remembers a concrete path written in the container (drift). Past
 * POLICY_WRITTEN_CAP the path is not stored: -ENOSPC, counted in
 * policy_execset_written_lost(); the ctime rule (set_since) still catches
 * such files. */
int policy_execset_mark_written(struct policy_execset *s, const char *path);
/* Files whose status changed (ctime, wall-clock ns) after since_ns are
 * drift: written, copied up, chmod-ed or renamed after the container
 * started. 0 disables the check. */
void policy_execset_set_since(struct policy_execset *s, uint64_t since_ns);

/* What execguard knows about the file being executed. */
struct policy_file {
	const char *path;  /* as the container sees it */
	uint64_t ctime_ns; /* 0 if unknown */
	int is_script;	   /* starts with "#!" */
};

/* The decision for one exec-open; reason gets a short sentence (may be
 * NULL). */
enum policy_verdict policy_execset_check(struct policy_execset *s,
					 const struct policy_file *f,
					 char *reason, size_t cap);
size_t policy_execset_count(struct policy_execset *s);
uint64_t policy_execset_written_lost(struct policy_execset *s);

#endif
