/* policy_cmd.c - `vigil policy check|apply|list|show|delete|test`.
 * Installed policies are the *.yaml files of DATA_DIR/policies; a running
 * agent watches that directory and reloads on change (run_policy.c).
 * `test` replays a recording through the same enrichment as the agent and
 * judges every event as protect mode would, without root. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/cli.h"
#include "lib/jsonw.h"
#include "pipeline/pipeline.h"
#include "policy/policy.h"
#include "policy/policy_event.h"
#include "sensor/sensor.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigil policy COMMAND [--data-dir DIR]\n"
		"  check FILE...             validate (FILE:LINE: message on "
		"errors, exit 1)\n"
		"  apply FILE                validate and install into "
		"DATA_DIR/policies\n"
		"  list                      installed policies\n"
		"  show NAME                 an installed policy, every default "
		"spelled out\n"
		"  delete NAME               uninstall (the file holding it)\n"
		"  test FILE --replay REC [--json]\n"
		"                            what protect mode would have "
		"blocked, killed or\n"
		"                            alerted on in a recording (no "
		"root)\n"
		"Schema: docs/policies.md\n");
}

static void policies_dir(const char *data_dir, char *out, size_t cap)
{
	snprintf(out, cap, "%s/policies", data_dir);
}

static size_t count_rules(const struct policyset *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->pol[i].n_rules;
	return n;
}

static int do_check(int n, char **files)
{
	int bad = 0;

	if (!n) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = 0; i < n; i++) {
		char err[512];
		struct policyset *s = policy_load_file(files[i], err, sizeof(err));

		if (!s) {
			fprintf(stderr, "%s\n", err);
			bad = 1;
			continue;
		}
		printf("%s: ok, %zu %s, %zu rules\n", files[i], s->n,
		       s->n == 1 ? "policy" : "policies", count_rules(s));
		policyset_unref(s);
	}
	return bad;
}

/* Copies the validated text to DIR/NAME through a hidden temp file and a
 * rename, so a watching agent never reads half a file. */
static int install(const char *dir, const char *base, const char *text,
		   size_t len, char *dst, size_t cap)
{
	char tmp[4200];
	int fd;

	snprintf(dst, cap, "%s/%s", dir, base);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, base);
	/* DATA_DIR itself may not exist yet (no agent ran) */
	for (char *p = strchr(tmp + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = 0;
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		int e = errno ? errno : EIO;

		close(fd);
		unlink(tmp);
		return -e;
	}
	close(fd);
	if (rename(tmp, dst) < 0) {
		int e = errno;

		unlink(tmp);
		return -e;
	}
	return 0;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n + 65536 > cap) {
			char *nb = realloc(buf, cap = n + 65536 + cap);

			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0 && n < (16u << 20));
	fclose(f);
	*len = n;
	return buf;
}

static int do_apply(const char *data_dir, const char *file)
{
	char dir[4096], dst[4300], err[512], base[256], *copy, *text;
	struct policyset *s, *installed;
	size_t len;
	int rc;

	text = read_all(file, &len);
	if (!text) {
		fprintf(stderr, "vigil: %s: %s\n", file, strerror(errno));
		return 1;
	}
	s = policy_parse(text, len, file, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "%s\n", err);
		free(text);
		return 1;
	}
	copy = strdup(file);
	snprintf(base, sizeof(base), "%s", copy ? basename(copy) : "policy.yaml");
	free(copy);
	if (!strstr(base, ".yaml") && !strstr(base, ".yml"))
		strncat(base, ".yaml", sizeof(base) - strlen(base) - 1);
	policies_dir(data_dir, dir, sizeof(dir));
	/* names must stay unique across the installed files (the one being
	 * replaced excepted) */
	installed = policy_load_dir(dir, err, sizeof(err));
	for (size_t i = 0; installed && i < installed->n; i++) {
		const char *f = installed->pol[i].file;
		const char *b = f ? strrchr(f, '/') : NULL;

		if (b && !strcmp(b + 1, base))
			continue;
		for (size_t k = 0; k < s->n; k++)
			if (!strcmp(installed->pol[i].name, s->pol[k].name)) {
				fprintf(stderr, "vigil: policy '%s' is already "
					"installed from '%s'\n", s->pol[k].name,
					f ? f : "?");
				policyset_unref(installed);
				policyset_unref(s);
				free(text);
				return 1;
			}
	}
	policyset_unref(installed);
	rc = install(dir, base, text, len, dst, sizeof(dst));
	free(text);
	if (rc < 0) {
		fprintf(stderr, "vigil: cannot install into '%s': %s\n", dir,
			strerror(-rc));
		policyset_unref(s);
		return 1;
	}
	printf("installed %zu %s (%zu rules) as %s; %s\n", s->n,
	       s->n == 1 ? "policy" : "policies", count_rules(s), dst,
	       store_agent_running(data_dir) ? "the running agent reloads it"
					     : "used from the agent's next start");
	policyset_unref(s);
	return 0;
}

static void selector_text(const struct pol_selector *sel, char *buf, size_t cap)
{
	static const char *names[] = {"container", "image", "namespace",
				      "labels", "service"};
	const struct pol_strs *lists[] = {&sel->container, &sel->image,
					  &sel->namespace, &sel->labels,
					  &sel->service};
	size_t off = 0;

	buf[0] = 0;
	if (sel->all)
		off += snprintf(buf + off, cap - off, "all ");
	if (sel->host && off < cap)
		off += snprintf(buf + off, cap - off, "host ");
	for (size_t i = 0; i < 5 && off < cap; i++) {
		if (!lists[i]->n)
			continue;
		off += snprintf(buf + off, cap - off, "%s=", names[i]);
		for (size_t k = 0; k < lists[i]->n && off < cap; k++)
			off += snprintf(buf + off, cap - off, "%s%s",
					k ? "," : "", lists[i]->v[k]);
		if (off < cap)
			off += snprintf(buf + off, cap - off, " ");
	}
	if (off && off <= cap && buf[off - 1] == ' ')
		buf[off - 1] = 0;
}

static struct policyset *load_installed(const char *data_dir)
{
	char dir[4096], err[512];
	struct policyset *s;

	policies_dir(data_dir, dir, sizeof(dir));
	s = policy_load_dir(dir, err, sizeof(err));
	if (!s)
		fprintf(stderr, "vigil: %s\n", err);
	return s;
}

static int do_list(const char *data_dir)
{
	struct policyset *s = load_installed(data_dir);

	if (!s)
		return 1;
	if (!s->n)
		printf("no policies installed in %s/policies\n", data_dir);
	else
		printf("%-24s %-6s %-40s %s\n", "NAME", "RULES", "SELECTOR",
		       "FILE");
	for (size_t i = 0; i < s->n; i++) {
		char sel[512];

		selector_text(&s->pol[i].sel, sel, sizeof(sel));
		printf("%-24s %-6zu %-40s %s\n", s->pol[i].name,
		       s->pol[i].n_rules, sel,
		       s->pol[i].file ? s->pol[i].file : "");
	}
	policyset_unref(s);
	return 0;
}

static const struct policy *find(const struct policyset *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->pol[i].name, name))
			return &s->pol[i];
	return NULL;
}

static int do_show(const char *data_dir, const char *name)
{
	struct policyset *s = load_installed(data_dir), one;
	const struct policy *p;
	char *text;

	if (!s)
		return 1;
	p = find(s, name);
	if (!p) {
		fprintf(stderr, "vigil: no installed policy '%s'\n", name);
		policyset_unref(s);
		return 1;
	}
	memset(&one, 0, sizeof(one));
	one.pol = (struct policy *)p;
	one.n = 1;
	text = policy_dump(&one);
	if (text)
		fputs(text, stdout);
	free(text);
	policyset_unref(s);
	return text ? 0 : 1;
}

static int do_delete(const char *data_dir, const char *name)
{
	struct policyset *s = load_installed(data_dir);
	const struct policy *p;
	size_t in_file = 0;
	int rc = 0;

	if (!s)
		return 1;
	p = find(s, name);
	if (!p || !p->file) {
		fprintf(stderr, "vigil: no installed policy '%s'\n", name);
		policyset_unref(s);
		return 1;
	}
	for (size_t i = 0; i < s->n; i++)
		in_file += s->pol[i].file && !strcmp(s->pol[i].file, p->file);
	if (in_file > 1) {
		fprintf(stderr, "vigil: '%s' shares '%s' with %zu other "
			"policies: edit that file instead\n", name, p->file,
			in_file - 1);
		rc = 1;
	} else if (unlink(p->file) < 0) {
		fprintf(stderr, "vigil: cannot remove '%s': %s\n", p->file,
			strerror(errno));
		rc = 1;
	} else {
		printf("deleted '%s' (%s)\n", name, p->file);
	}
	policyset_unref(s);
	return rc;
}

/* --- test --replay --- */

struct ptest {
	struct pipeline p;
	struct policyset *set;
	struct jsonw *w;
	int json;
	uint64_t judged, counts[4];
};

static const char *would(enum pol_action a)
{
	return a == POL_KILL ? "would kill" : a == POL_BLOCK ? "would block" :
	       a == POL_ALERT ? "would alert" : "allow";
}

static void print_verdict(struct ptest *t, const void *rec,
			  const struct enrich_view *v,
			  const struct pol_verdict *vd)
{
	char line[1024];
	const char *pol = vd->pol ? vd->pol->name : "";
	const char *rule = vd->rule ? vd->rule->id : "(default)";

	event_text(line, sizeof(line), rec, v, &t->p.fc);
	if (!t->json) {
		printf("%s  %s/%s  %s\n", would(vd->action), pol, rule, line);
		return;
	}
	jsonw_reset(t->w);
	jsonw_obj_open(t->w, NULL);
	jsonw_str(t->w, "verdict", vd->action == POL_KILL ? "kill" :
		  vd->action == POL_BLOCK ? "block" : "alert");
	jsonw_str(t->w, "policy", pol);
	jsonw_str(t->w, "rule", vd->rule ? vd->rule->id : "");
	if (vd->rule && vd->action == POL_KILL)
		jsonw_str(t->w, "scope", vd->rule->freeze ? "freeze" :
			  vd->rule->scope == POL_SCOPE_CONTAINER ? "container"
								 : "process");
	jsonw_str(t->w, "event", line);
	event_json_context(t->w, rec, v);
	jsonw_obj_close(t->w);
	{
		size_t len;
		const char *s = jsonw_data(t->w, &len);

		if (!jsonw_error(t->w))
			printf("%.*s\n", (int)len, s);
	}
}

static void test_hook(void *ctx, const void *rec, const struct enrich_view *v)
{
	struct ptest *t = ctx;
	const struct policy *sel[64];
	struct pol_subject subj;
	struct pol_query q;
	struct pol_query_buf b;
	struct pol_verdict vd[2];
	enum pol_kind kinds[2];
	size_t n;
	int k;

	pol_subject_of(v->res, &subj);
	n = policyset_select(t->set, &subj, sel, 64);
	if (n > 64)
		n = 64;
	k = pol_judge_event(sel, n, rec, v, &q, &b, vd, kinds);
	if (n)
		t->judged++;
	for (int i = 0; i < k; i++) {
		if (vd[i].action == POL_ALLOW)
			continue;
		t->counts[vd[i].action]++;
		print_verdict(t, rec, v, &vd[i]);
	}
}

static int do_test(const char *file, const char *recpath, int json)
{
	struct ptest t;
	struct rec_reader *rd;
	char err[512];
	uint64_t bad = 0;
	int rc;

	memset(&t, 0, sizeof(t));
	t.set = policy_load_file(file, err, sizeof(err));
	if (!t.set) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	rd = rec_reader_open(recpath);
	if (!rd) {
		fprintf(stderr, "vigil: cannot read '%s': %s\n", recpath,
			errno == EINVAL ? "not a Vigil recording" :
					  strerror(errno));
		policyset_unref(t.set);
		return errno == ENOENT ? 1 : EXIT_BADINPUT;
	}
	t.json = json;
	t.w = jsonw_new();
	if (!t.w || pipeline_init(&t.p, 0) < 0) {
		jsonw_free(t.w);
		rec_reader_close(rd);
		policyset_unref(t.set);
		return 1;
	}
	snprintf(t.p.host_name, sizeof(t.p.host_name), "unknown");
	t.p.hook = test_hook;
	t.p.hook_ctx = &t;
	rc = pipeline_replay(&t.p, rd, &bad, NULL, NULL, NULL);
	if (rc < 0) {
		fflush(stdout);
		fprintf(stderr, "vigil: '%s' stopped: %s\n", recpath,
			rc == -EPROTO ? "recorded with another event ABI"
				      : rec_reader_error(rd));
		rc = EXIT_BADINPUT;
	}
	fflush(stdout);
	fprintf(stderr, "vigil: %llu events judged by a policy: would kill "
		"%llu, would block %llu, would alert %llu (the learned models "
		"are not part of this test)\n",
		(unsigned long long)t.judged,
		(unsigned long long)t.counts[POL_KILL],
		(unsigned long long)t.counts[POL_BLOCK],
		(unsigned long long)t.counts[POL_ALERT]);
	if (bad)
		fprintf(stderr, "vigil: %llu malformed records skipped\n",
			(unsigned long long)bad);
	pipeline_fini(&t.p);
	jsonw_free(t.w);
	rec_reader_close(rd);
	policyset_unref(t.set);
	return rc;
}

int cmd_policy(int argc, char **argv)
{
	const char *data_dir = getenv("VIGIL_DATA_DIR") ? getenv("VIGIL_DATA_DIR")
							: "/var/lib/vigil";
	const char *replay = NULL;
	char *pos[64];
	int npos = 0, json = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--data-dir") && i + 1 < argc) {
			data_dir = argv[++i];
		} else if (!strcmp(argv[i], "--replay") && i + 1 < argc) {
			replay = argv[++i];
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (argv[i][0] == '-' || npos == 64) {
			fprintf(stderr, "vigil: policy: unknown option '%s'\n",
				argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		} else {
			pos[npos++] = argv[i];
		}
	}
	if (!npos) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(pos[0], "check"))
		return do_check(npos - 1, pos + 1);
	if (!strcmp(pos[0], "apply") && npos == 2)
		return do_apply(data_dir, pos[1]);
	if (!strcmp(pos[0], "list") && npos == 1)
		return do_list(data_dir);
	if (!strcmp(pos[0], "show") && npos == 2)
		return do_show(data_dir, pos[1]);
	if (!strcmp(pos[0], "delete") && npos == 2)
		return do_delete(data_dir, pos[1]);
	if (!strcmp(pos[0], "test") && npos == 2 && replay)
		return do_test(pos[1], replay, json);
	usage(stderr);
	return EXIT_USAGE;
}
