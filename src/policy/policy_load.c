/* policy_load.c - policy files and directories, the reference count of a
 * set, freeing, and the names of the enumerations.
 *
 * A directory loads as one set, files in byte order of their names, so the
 * same directory gives the same set (and the same first error) on every
 * machine. A set is freed whole at its last reference; until then nothing
 * in it changes, so readers on other threads need no lock. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "policy/policy.h"
#include "policy/policy_int.h"

/* A file is read whole: policies are small, and a huge one is a mistake. */
#define POL_FILE_MAX (1u << 20)

const char *const pol_action_names[4] = {"allow", "alert", "block", "kill"};
const char *const pol_kind_names[4] = {"process", "file", "network", "privileged"};
const char *const pol_sev_names[4] = {"low", "medium", "high", "critical"};
const char *const pol_priv_names[POL_N_PRIV] = {
	"setuid", "capset", "ptrace", "mount", "unshare",
	"setns", "module", "bpf", "memfd_exec",
};
const char *const pol_access_names[POL_N_ACC] = {
	"read", "write", "exec", "create", "delete",
};

static void strs_free(struct pol_strs *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void rule_free(struct pol_rule *r)
{
	strs_free(&r->mitre);
	free(r->description);
	strs_free(&r->exe);
	strs_free(&r->parent);
	strs_free(&r->paths);
	free(r->to);
	free(r->ports);
	strs_free(&r->dns);
	free(r->listen);
}

static void policy_free(struct policy *pol)
{
	free(pol->description);
	free(pol->file);
	strs_free(&pol->sel.container);
	strs_free(&pol->sel.image);
	strs_free(&pol->sel.namespace);
	strs_free(&pol->sel.labels);
	strs_free(&pol->sel.service);
	for (size_t i = 0; i < pol->n_rules; i++)
		rule_free(&pol->rules[i]);
	free(pol->rules);
}

void pol_set_free(struct policyset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		policy_free(&s->pol[i]);
	free(s->pol);
	free(s);
}

struct policyset *pol_set_new(void)
{
	struct policyset *s = calloc(1, sizeof(*s));

	if (s)
		s->refs = 1;
	return s;
}

struct policyset *policy_load_file(const char *path, char *err, size_t errlen)
{
	struct policyset *s = NULL;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n = 0;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !(buf = malloc(POL_FILE_MAX + 1))) {
		e = fd < 0 ? errno : ENOMEM;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		goto out;
	}
	/* one byte more than allowed tells a file that is too large */
	while (len <= POL_FILE_MAX &&
	       (n = read(fd, buf + len, POL_FILE_MAX + 1 - len)) > 0)
		len += (size_t)n;
	if (n < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
	} else if (len > POL_FILE_MAX) {
		e = EFBIG;
		snprintf(err, errlen, "%s: too large (more than %u bytes)", path, POL_FILE_MAX);
	} else {
		s = policy_parse(buf, len, path, err, errlen);
		e = errno;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	if (!s)
		errno = e;
	return s;
}

static int policy_file_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	if (d->d_name[0] == '.')
		return 0;
	return (n > 5 && !strcmp(d->d_name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(d->d_name + n - 4, ".yml"));
}

/* Byte order, not the locale's: the same set loads the same everywhere. */
static int name_order(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Moves the policies of b to the end of a (b keeps none). */
static int merge(struct policyset *a, struct policyset *b, char *err, size_t errlen)
{
	struct policy *np;

	for (size_t i = 0; i < b->n; i++)
		for (size_t j = 0; j < a->n; j++)
			if (!strcmp(a->pol[j].name, b->pol[i].name)) {
				snprintf(err, errlen, "%s:%u: duplicate policy name '%s' (first in %s:%u)",
					 b->pol[i].file ? b->pol[i].file : "-", b->pol[i].line,
					 b->pol[i].name, a->pol[j].file ? a->pol[j].file : "-",
					 a->pol[j].line);
				return -EEXIST;
			}
	if (!b->n)
		return 0;
	np = realloc(a->pol, (a->n + b->n) * sizeof(*np));
	if (!np) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	a->pol = np;
	memcpy(a->pol + a->n, b->pol, b->n * sizeof(*np));
	a->n += b->n;
	b->n = 0;
	return 0;
}

struct policyset *policy_load_dir(const char *dir, char *err, size_t errlen)
{
	struct dirent **ents = NULL;
	struct policyset *s, *one;
	int n, i, rc = 0;

	n = scandir(dir, &ents, policy_file_name, name_order);
	if (n < 0) {
		rc = -errno;
		if (rc == -ENOENT)
			return pol_set_new();
		snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
		errno = -rc;
		return NULL;
	}
	if (!(s = pol_set_new())) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", dir);
	}
	for (i = 0; i < n && rc == 0; i++) {
		char *path = NULL;
		struct stat st;

		if (asprintf(&path, "%s/%s", dir, ents[i]->d_name) < 0) {
			rc = -ENOMEM;
			snprintf(err, errlen, "%s: out of memory", dir);
			break;
		}
		if (stat(path, &st) < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		} else if (S_ISREG(st.st_mode)) {
			one = policy_load_file(path, err, errlen);
			if (!one)
				rc = errno ? -errno : -EINVAL;
			else
				rc = merge(s, one, err, errlen);
			pol_set_free(one);
		}
		free(path);
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	if (rc < 0) {
		pol_set_free(s);
		errno = -rc;
		return NULL;
	}
	return s;
}

struct policyset *policyset_ref(struct policyset *s)
{
	if (s)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

void policyset_unref(struct policyset *s)
{
	if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
		pol_set_free(s);
}

const char *pol_action_name(enum pol_action a)
{
	return (unsigned)a < 4 ? pol_action_names[a] : "?";
}

const char *pol_kind_name(enum pol_kind k)
{
	return (unsigned)k < 4 ? pol_kind_names[k] : "?";
}

const char *pol_severity_name(int sev)
{
	return sev >= 1 && sev <= 4 ? pol_sev_names[sev - 1] : "?";
}
