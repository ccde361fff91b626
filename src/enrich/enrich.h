/* enrich.h - turns kernel records into attributed events: which resource
 * (container or host service) and which process executable each belongs to.
 *
 * Everything the enrich stage learns from outside the record stream (the
 * runtime's state files, /proc) is handed to a side sink as a frame before
 * the record that needed it, so a recording replays to exactly the same
 * attribution without root or the original host. */
#ifndef VIGIL_ENRICH_H
#define VIGIL_ENRICH_H

#include <stddef.h>
#include <stdint.h>
#include "enrich/cgroup_path.h"
#include "enrich/container_meta.h"

struct resource {
	uint64_t key; /* cgroup id, bit 63 set for a v1 hierarchy id */
	char path[1024];
	struct cg_info cg;
	struct container_meta meta;
	int meta_known;	 /* meta came from the runtime's state */
	int tries;	 /* state lookups so far (live only) */
	uint64_t next_try_ns;
};

struct proc_info {
	uint32_t pid;
	uint32_t ppid;
	char exe[256];
	char name[32]; /* basename of argv[0] (multi-call binaries), else comm */
	int64_t exec_uid; /* real uid when it last exec'd; -1 if unknown */
};

struct enrich_view {
	const struct resource *res; /* never NULL */
	const struct proc_info *proc; /* NULL when unknown */
	const struct proc_info *parent; /* NULL when unknown */
};

/* Side frames (recording kinds 3 and 4); fixed layouts, char arrays only.
 * struct side_container only ever grows at its end (container_meta is its
 * last member and new fields go at the end of container_meta), so a frame
 * from an older build is a prefix of today's: enrich_side() takes any
 * length from SIDE_CONTAINER_V1_SIZE (the layout before meta.labels; such
 * frames read back with labels "") up to and past sizeof(struct
 * side_container) (a newer build's; what it appended is ignored). */
struct side_container {
	uint64_t key;
	struct container_meta meta;
};
#define SIDE_CONTAINER_V1_SIZE 968 /* key + meta up to, not with, labels */

struct side_proc {
	uint32_t pid;
	uint32_t ppid;
	char exe[256];
};

typedef int (*enrich_sink)(void *ctx, uint32_t kind, const void *data,
			   size_t len);

struct enrich_opts {
	int live;		/* may read /proc and the runtimes' state */
	const char *state_root; /* prefix for runtime state paths ("" = /) */
};

struct enrich;

struct enrich *enrich_new(const struct enrich_opts *o, enrich_sink sink,
			  void *sink_ctx);
void enrich_free(struct enrich *e);

/* Feeds one checked record (sensor/vg_record_check). Returns 1 and fills *v
 * for an event to show, 0 for a metadata record (VG_CGROUP), or -errno. */
int enrich_event(struct enrich *e, const void *rec, uint64_t now_ns,
		 struct enrich_view *v);
/* Forgets what an exit record ended; call after the event was shown. */
void enrich_done(struct enrich *e, const void *rec);
/* Applies a side frame read from a recording. */
int enrich_side(struct enrich *e, uint32_t kind, const void *data, size_t len);
/* The process table entry of pid; NULL if unknown. */
const struct proc_info *enrich_proc(struct enrich *e, uint32_t pid);
/* Looks up a resource by container id or name; NULL if none seen. */
const struct resource *enrich_find_container(struct enrich *e, const char *id);

struct enrich_stats {
	uint64_t resources, procs, proc_evictions, unknown_cgroups;
};
void enrich_stats(const struct enrich *e, struct enrich_stats *out);

#endif
