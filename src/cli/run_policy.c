/* run_policy.c - see run_policy.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/run_policy.h"
#include "lib/hashmap.h"
#include "policy/policy_event.h"

#define SEL_CACHE_CAP 16384

struct sel_cache {
	uint64_t gen;
	int meta_known;
	size_t n;
	const struct policy *sel[RPOL_SEL_MAX];
};

struct rpol {
	char dir[4096];
	struct policyset *set;
	uint64_t gen;
	int ifd;
	struct hashmap *cache; /* resource key -> struct sel_cache */
};

static void free_cache(void *ctx, uint64_t k, void *v)
{
	(void)ctx;
	(void)k;
	free(v);
}

struct rpol *rpol_open(const char *dir, char *err, size_t errlen)
{
	struct rpol *rp = calloc(1, sizeof(*rp));

	if (!rp) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(rp->dir, sizeof(rp->dir), "%s", dir);
	rp->ifd = -1;
	rp->gen = 1;
	rp->cache = hashmap_new(SEL_CACHE_CAP);
	if (!rp->cache) {
		snprintf(err, errlen, "out of memory");
		rpol_close(rp);
		return NULL;
	}
	rp->set = policy_load_dir(dir, err, errlen);
	if (!rp->set) {
		rpol_close(rp);
		return NULL;
	}
	/* watching a dir that does not exist yet: create it, so that a
	 * later `vigil policy apply` is seen */
	if (access(dir, F_OK) < 0 && errno == ENOENT)
		(void)mkdir(dir, 0700);
	rp->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (rp->ifd >= 0 &&
	    inotify_add_watch(rp->ifd, dir, IN_CLOSE_WRITE | IN_MOVED_TO |
					   IN_MOVED_FROM | IN_DELETE |
					   IN_CREATE) < 0) {
		close(rp->ifd);
		rp->ifd = -1;
	}
	return rp;
}

void rpol_close(struct rpol *rp)
{
	if (!rp)
		return;
	if (rp->ifd >= 0)
		close(rp->ifd);
	hashmap_free(rp->cache, free_cache, NULL);
	policyset_unref(rp->set);
	free(rp);
}

int rpol_fd(const struct rpol *rp)
{
	return rp ? rp->ifd : -1;
}

/* Only *.yaml / *.yml files count (editors write temp files too). */
static int is_policy_name(const char *name, size_t len)
{
	if (!len || name[0] == '.')
		return 0;
	return (len > 5 && !strcmp(name + len - 5, ".yaml")) ||
	       (len > 4 && !strcmp(name + len - 4, ".yml"));
}

int rpol_changed(struct rpol *rp)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int changed = 0;
	ssize_t n;

	if (!rp || rp->ifd < 0)
		return 0;
	while ((n = read(rp->ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (ev->len && is_policy_name(ev->name, strlen(ev->name)))
				changed = 1;
			p += sizeof(*ev) + ev->len;
		}
	}
	return changed;
}

int rpol_reload(struct rpol *rp, char *err, size_t errlen)
{
	struct policyset *s = policy_load_dir(rp->dir, err, errlen);

	if (!s)
		return -EINVAL;
	policyset_unref(rp->set);
	rp->set = s;
	rp->gen++;
	return 1;
}

struct policyset *rpol_set(const struct rpol *rp)
{
	return rp ? rp->set : NULL;
}

const char *rpol_dir(const struct rpol *rp)
{
	return rp->dir;
}

uint64_t rpol_gen(const struct rpol *rp)
{
	return rp ? rp->gen : 0;
}

size_t rpol_select(struct rpol *rp, const struct resource *res,
		   const struct policy **out)
{
	struct sel_cache *c;
	struct pol_subject subj;

	if (!rp || !rp->set || !rp->set->n)
		return 0;
	c = hashmap_get(rp->cache, res->key);
	if (!c) {
		uint64_t old;

		if (hashmap_count(rp->cache) >= SEL_CACHE_CAP) /* gone ones */
			free(hashmap_del(rp->cache, (hashmap_any(rp->cache, &old),
						     old)));
		c = calloc(1, sizeof(*c));
		if (c && hashmap_put(rp->cache, res->key, c) < 0) {
			free(c);
			c = NULL; /* select every time */
		}
	}
	if (c && c->gen == rp->gen && c->meta_known == res->meta_known) {
		memcpy(out, c->sel, c->n * sizeof(*out));
		return c->n;
	}
	pol_subject_of(res, &subj);
	{
		size_t n = policyset_select(rp->set, &subj, out, RPOL_SEL_MAX);

		if (n > RPOL_SEL_MAX)
			n = RPOL_SEL_MAX;
		if (c) {
			c->gen = rp->gen;
			c->meta_known = res->meta_known;
			c->n = n;
			memcpy(c->sel, out, n * sizeof(*out));
		}
		return n;
	}
}
