/* proctree.c - a resource's process tree rebuilt from its stored fork,
 * exec and exit events (vigil tree, vigil incident export).
 *
 * Invariants: one node per process lifetime: a pid maps to its live node
 * until its exit (a pid seen again after that, or forked while its node
 * lives, starts a new node); nodes are kept in the order they appeared, so
 * children print in time order; a node's parent index is always smaller
 * than its own index or -1, so the tree has no cycles. Processes that
 * started before the recording appear with an unknown start; ancestors of
 * a shown node are always shown. Memory: one node per process, capped at
 * PTREE_MAX_NODES (further processes are counted, not kept). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "lib/hashmap.h"
#include "lib/jsonw.h"
#include "output/event_format.h"
#include "vigil_event.h"

#define PTREE_MAX_NODES 200000
#define MAX_DEPTH 64

struct pexec {
	uint64_t ns;
	char *exe;
	char *args; /* NUL-separated */
	uint32_t args_len, argc;
};

struct pnode {
	uint32_t pid, ppid;
	int parent; /* index, or -1 */
	uint64_t start_ns, end_ns; /* 0: unknown / still running */
	int start_known, ended;
	uint32_t status; /* wait(2) status, when ended */
	char exe[256];	 /* as first seen (before any exec) */
	char comm[VG_COMM_LEN]; /* the latest name seen */
	struct pexec *ex;
	size_t n_ex;
	int shown;
	int *kids;
	size_t n_kids, cap_kids;
};

struct ptree {
	struct pnode *n;
	size_t len, cap;
	struct hashmap *live; /* pid -> node index + 1 */
	uint64_t skipped;
};

struct ptree *ptree_new(void)
{
	struct ptree *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->live = hashmap_new(1 << 20);
	if (!t->live) {
		free(t);
		return NULL;
	}
	return t;
}

void ptree_free(struct ptree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->len; i++) {
		for (size_t k = 0; k < t->n[i].n_ex; k++) {
			free(t->n[i].ex[k].exe);
			free(t->n[i].ex[k].args);
		}
		free(t->n[i].ex);
		free(t->n[i].kids);
	}
	free(t->n);
	hashmap_free(t->live, NULL, NULL);
	free(t);
}

size_t ptree_count(const struct ptree *t)
{
	return t->len;
}

static int live_of(struct ptree *t, uint32_t pid)
{
	uintptr_t v = (uintptr_t)hashmap_get(t->live, pid);

	return v ? (int)(v - 1) : -1;
}

/* A new node for pid, now its live node; -1 when full. */
static int node_new(struct ptree *t, uint32_t pid, uint32_t ppid, int parent,
		    uint64_t ns, int start_known, const char *exe,
		    const char *comm)
{
	struct pnode *n;

	if (t->len >= PTREE_MAX_NODES) {
		t->skipped++;
		return -1;
	}
	if (t->len == t->cap) {
		size_t nc = t->cap ? 2 * t->cap : 64;
		struct pnode *nn = realloc(t->n, nc * sizeof(*nn));

		if (!nn) {
			t->skipped++;
			return -1;
		}
		t->n = nn;
		t->cap = nc;
	}
	n = &t->n[t->len];
	memset(n, 0, sizeof(*n));
	n->pid = pid;
	n->ppid = ppid;
	n->parent = parent;
	n->start_ns = ns;
	n->start_known = start_known;
	snprintf(n->exe, sizeof(n->exe), "%s", exe ? exe : "");
	snprintf(n->comm, sizeof(n->comm), "%s", comm ? comm : "");
	if (hashmap_put(t->live, pid, (void *)(uintptr_t)(t->len + 1)) < 0) {
		t->skipped++;
		return -1;
	}
	return (int)t->len++;
}

/* The live node of pid, made (start unknown) if there is none. */
static int node_of(struct ptree *t, uint32_t pid, uint32_t ppid,
		   const struct proc_info *pi, const char *comm, uint64_t ns)
{
	int i = live_of(t, pid);

	if (i >= 0)
		return i;
	return node_new(t, pid, ppid, live_of(t, ppid), ns, 0,
			pi ? pi->exe : NULL, comm);
}

/* The executable a process runs now. */
static const char *node_exe(const struct pnode *n)
{
	return n->n_ex ? n->ex[n->n_ex - 1].exe : n->exe;
}

static void add_exec(struct ptree *t, int i, const struct vg_exec *x,
		     uint64_t ns)
{
	struct pnode *n = &t->n[i];
	struct pexec *ne = realloc(n->ex, (n->n_ex + 1) * sizeof(*ne));
	uint32_t al = x->args_len < sizeof(x->args) ? x->args_len
						     : sizeof(x->args);

	if (!ne)
		return;
	n->ex = ne;
	ne = &n->ex[n->n_ex];
	ne->ns = ns;
	ne->exe = strdup(x->exe);
	ne->args = malloc(al + 1);
	if (!ne->exe || !ne->args) {
		free(ne->exe);
		free(ne->args);
		return;
	}
	memcpy(ne->args, x->args, al);
	ne->args[al] = 0;
	ne->args_len = al;
	ne->argc = x->argc;
	n->n_ex++;
}

int ptree_add(struct ptree *t, const void *rec, const struct enrich_view *v,
	      uint64_t wall_ns)
{
	const struct vg_hdr *h = rec;
	int i;

	switch (h->type) {
	case VG_FORK: {
		const struct vg_proc *f = rec;
		int p = node_of(t, h->pid, h->ppid, v->parent, h->comm, wall_ns);

		if (f->is_thread)
			return 0;
		i = live_of(t, f->child_pid);
		if (i >= 0) /* pid reused without a seen exit */
			hashmap_del(t->live, f->child_pid);
		i = node_new(t, f->child_pid, h->pid, p, wall_ns, 1,
			     p >= 0 ? node_exe(&t->n[p]) : NULL, h->comm);
		return i < 0 ? -ENOMEM : 0;
	}
	case VG_EXEC:
		i = live_of(t, h->pid);
		if (i < 0)
			i = node_new(t, h->pid, h->ppid, live_of(t, h->ppid),
				     wall_ns, 1, NULL, h->comm);
		if (i < 0)
			return -ENOMEM;
		if (h->ret == 0)
			add_exec(t, i, rec, wall_ns);
		return 0;
	case VG_EXIT:
		i = node_of(t, h->pid, h->ppid, v->proc, h->comm, wall_ns);
		if (i < 0)
			return -ENOMEM;
		t->n[i].ended = 1;
		t->n[i].end_ns = wall_ns;
		memcpy(t->n[i].comm, h->comm, sizeof(t->n[i].comm));
		t->n[i].status = ((const struct vg_proc *)rec)->exit_code;
		hashmap_del(t->live, h->pid);
		return 0;
	default:
		i = node_of(t, h->pid, h->ppid, v->proc, h->comm, wall_ns);
		if (i < 0)
			return -ENOMEM;
		/* forked applets run without exec: their name tells */
		memcpy(t->n[i].comm, h->comm, sizeof(t->n[i].comm));
		return 0;
	}
}

static int kid_add(struct pnode *p, int k)
{
	if (p->n_kids == p->cap_kids) {
		size_t nc = p->cap_kids ? 2 * p->cap_kids : 4;
		int *nk = realloc(p->kids, nc * sizeof(*nk));

		if (!nk)
			return -ENOMEM;
		p->kids = nk;
		p->cap_kids = nc;
	}
	p->kids[p->n_kids++] = k;
	return 0;
}

/* Marks the nodes alive at some time in [since, until] and their
 * ancestors; links children. Returns the number shown. */
static size_t select_nodes(struct ptree *t, uint64_t since, uint64_t until)
{
	size_t shown = 0;

	for (size_t i = 0; i < t->len; i++) {
		t->n[i].shown = 0;
		t->n[i].n_kids = 0;
	}
	for (size_t i = t->len; i-- > 0;) {
		struct pnode *n = &t->n[i];
		uint64_t first = n->n_ex ? n->ex[0].ns : n->start_ns;

		if ((n->start_known ? n->start_ns : first) <= until &&
		    (!n->ended || n->end_ns >= since))
			n->shown = 1;
		if (n->shown && n->parent >= 0)
			t->n[n->parent].shown = 1;
	}
	for (size_t i = 0; i < t->len; i++) {
		if (!t->n[i].shown)
			continue;
		shown++;
		if (t->n[i].parent >= 0)
			kid_add(&t->n[t->n[i].parent], (int)i);
	}
	return shown;
}

/* Visits the shown nodes in tree order (parents first, children in time
 * order) without recursion: any depth is fine. */
static void walk(const struct ptree *t,
		 void (*fn)(const struct ptree *t, int i, int depth, void *ctx),
		 void *ctx)
{
	struct item {
		int i, depth;
	} *st = malloc((t->len + 1) * sizeof(*st));
	size_t sp = 0;

	if (!st)
		return;
	for (size_t i = t->len; i-- > 0;)
		if (t->n[i].shown && t->n[i].parent < 0)
			st[sp++] = (struct item){(int)i, 0};
	while (sp) {
		struct item it = st[--sp];
		const struct pnode *n = &t->n[it.i];

		fn(t, it.i, it.depth, ctx);
		for (size_t k = n->n_kids; k-- > 0;)
			st[sp++] = (struct item){n->kids[k], it.depth + 1};
	}
	free(st);
}

/* Writes args (NUL-separated) as a shell-like line: quoted when needed,
 * control characters escaped. */
static void put_args(FILE *f, const char *a, uint32_t len)
{
	uint32_t i = 0;

	while (i < len) {
		const char *s = a + i;
		size_t l = strnlen(s, len - i);
		int q = l == 0 || strpbrk(s, " \t'\"\\$") != NULL;

		if (i)
			putc(' ', f);
		if (q)
			putc('"', f);
		for (size_t k = 0; k < l; k++) {
			unsigned char c = (unsigned char)s[k];

			if (c == '"' || c == '\\')
				fprintf(f, "\\%c", c);
			else if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\x%02x", c);
			else
				putc(c, f);
		}
		if (q)
			putc('"', f);
		i += (uint32_t)l + 1;
	}
}

static void put_time(FILE *f, uint64_t ns)
{
	char ts[48];

	format_time(ts, sizeof(ts), (int64_t)ns);
	fputs(ts, f);
}

static void print_node(const struct ptree *t, int i, int depth, void *ctx)
{
	FILE *f = ctx;
	const struct pnode *n = &t->n[i];

	fprintf(f, "%*s%u ", 2 * (depth < MAX_DEPTH ? depth : MAX_DEPTH), "",
		n->pid);
	if (!n->n_ex)
		fprintf(f, "%s (as %s, no exec seen)", n->exe[0] ? n->exe : "?",
			n->comm);
	for (size_t k = 0; k < n->n_ex; k++) {
		if (k)
			fputs(" => ", f);
		fprintf(f, "%s [", n->ex[k].exe);
		put_args(f, n->ex[k].args, n->ex[k].args_len);
		fputc(']', f);
	}
	fputs(n->start_known ? " started " : " seen ", f);
	put_time(f, n->start_known || !n->n_ex ? n->start_ns : n->ex[0].ns);
	if (n->ended) {
		if ((n->status & 0x7f) == 0)
			fprintf(f, " exit %u", (n->status >> 8) & 0xff);
		else
			fprintf(f, " killed by signal %u", n->status & 0x7f);
		fputs(" at ", f);
		put_time(f, n->end_ns);
	} else {
		fputs(" (no exit recorded)", f);
	}
	fputc('\n', f);
}

size_t ptree_print(struct ptree *t, FILE *f, uint64_t since, uint64_t until)
{
	size_t shown = select_nodes(t, since, until);

	walk(t, print_node, f);
	if (t->skipped)
		fprintf(f, "(%llu more processes not shown: tree too large)\n",
			(unsigned long long)t->skipped);
	return shown;
}

static void json_time(struct jsonw *w, const char *key, uint64_t ns)
{
	char ts[48];

	format_time(ts, sizeof(ts), (int64_t)ns);
	jsonw_str(w, key, ts);
}

/* One process object, then its children: a flat list in tree order. */
static void json_node(const struct ptree *t, int i, int depth, void *ctx)
{
	struct jsonw *w = ctx;
	const struct pnode *n = &t->n[i];

	jsonw_obj_open(w, NULL);
	jsonw_uint(w, "pid", n->pid);
	jsonw_uint(w, "ppid", n->ppid);
	jsonw_int(w, "depth", depth);
	jsonw_str(w, "executable", node_exe(n));
	jsonw_str(w, "name", n->comm);
	jsonw_arr_open(w, "execs");
	for (size_t k = 0; k < n->n_ex; k++) {
		const struct pexec *e = &n->ex[k];
		uint32_t j = 0;

		jsonw_obj_open(w, NULL);
		json_time(w, "time", e->ns);
		jsonw_str(w, "executable", e->exe);
		jsonw_arr_open(w, "args");
		while (j < e->args_len) {
			size_t l = strnlen(e->args + j, e->args_len - j);

			jsonw_strn(w, NULL, e->args + j, l);
			j += (uint32_t)l + 1;
		}
		jsonw_arr_close(w);
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
	if (n->start_known)
		json_time(w, "start", n->start_ns);
	else
		json_time(w, "first_seen", n->n_ex ? n->ex[0].ns : n->start_ns);
	if (n->ended) {
		json_time(w, "end", n->end_ns);
		if ((n->status & 0x7f) == 0)
			jsonw_int(w, "exit_code", (n->status >> 8) & 0xff);
		else
			jsonw_int(w, "exit_signal", n->status & 0x7f);
	}
	jsonw_obj_close(w);
}

size_t ptree_json(struct ptree *t, struct jsonw *w, const char *key,
		  uint64_t since, uint64_t until)
{
	size_t shown = select_nodes(t, since, until);

	jsonw_arr_open(w, key);
	walk(t, json_node, w);
	jsonw_arr_close(w);
	return shown;
}
