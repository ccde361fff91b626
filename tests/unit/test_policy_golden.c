/* test_policy_golden.c - golden files of the policy language: for each
 * tests/policy/golden/NAME.yaml, NAME.out holds exactly what parsing it
 * gives: the canonical dump (policy_dump) of a valid file, or the one
 * error line (with '\n') of an invalid one. Files are parsed under their
 * base name, so the .out files do not depend on where the tree is.
 * Also: every example under policies/ parses, and a dump is the same when
 * the file is parsed twice.
 *
 * Run from the repository root (as `make unit` does). To regenerate the
 * .out files after an intended change, then review the diff:
 *     make build/tests/test_policy_golden &&
 *     VIGIL_GOLDEN_UPDATE=1 build/tests/test_policy_golden
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "policy/policy.h"

#define GOLDEN_DIR "tests/policy/golden"
#define EXAMPLES_DIR "policies"

/* The whole file, NUL-terminated, or NULL. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = 0;
	}
	fclose(f);
	return buf;
}

/* What NAME.yaml gives: the dump, or the error line. *valid says which. */
static char *result(const char *text, size_t len, const char *name, int *valid)
{
	char err[1024], *out;
	struct policyset *s = policy_parse(text, len, name, err, sizeof(err));

	*valid = s != NULL;
	if (!s) {
		out = malloc(strlen(err) + 2);
		if (out)
			sprintf(out, "%s\n", err);
		return out;
	}
	out = policy_dump(s);
	policyset_unref(s);
	return out;
}

static int yaml_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".yaml");
}

static void golden(int update)
{
	struct dirent **ents;
	int n = scandir(GOLDEN_DIR, &ents, yaml_name, alphasort);
	int n_valid = 0, n_invalid = 0;

	CHECK(n > 0);
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char path[512], outpath[512];
		size_t len = 0, wlen = 0;
		char *text, *got, *again, *want;
		int valid, valid2;

		snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, name);
		snprintf(outpath, sizeof(outpath), "%s/%.*s.out", GOLDEN_DIR,
			 (int)(strlen(name) - 5), name);
		text = slurp(path, &len);
		CHECK(text != NULL);
		got = text ? result(text, len, name, &valid) : NULL;
		again = text ? result(text, len, name, &valid2) : NULL;
		CHECK(got != NULL);
		CHECK_STR(again, got); /* deterministic */
		if (got && valid)
			n_valid++;
		else if (got)
			n_invalid++;
		if (update && got) {
			FILE *f = fopen(outpath, "w");

			CHECK(f != NULL);
			if (f) {
				fputs(got, f);
				fclose(f);
			}
		}
		want = slurp(outpath, &wlen);
		if (!want)
			fprintf(stderr, "%s: missing (VIGIL_GOLDEN_UPDATE=1 writes it)\n", outpath);
		if (got && want && strcmp(got, want))
			fprintf(stderr, "%s: differs from what %s gives:\n%s", outpath, name, got);
		CHECK(got && want && !strcmp(got, want));
		free(text);
		free(got);
		free(again);
		free(want);
		free(ents[i]);
	}
	if (n > 0)
		free(ents);
	/* enough of both kinds that a lost directory cannot pass */
	CHECK(n_valid >= 8);
	CHECK(n_invalid >= 15);
}

/* Every example policy is valid, and they load as one set (unique names). */
static void examples(void)
{
	char err[1024];
	struct policyset *s = policy_load_dir(EXAMPLES_DIR, err, sizeof(err));

	if (!s)
		fprintf(stderr, "%s\n", err);
	CHECK(s != NULL);
	CHECK(s && s->n >= 3);
	policyset_unref(s);
}

int main(void)
{
	const char *u = getenv("VIGIL_GOLDEN_UPDATE");

	golden(u && *u && strcmp(u, "0"));
	examples();
	return h_finish("policy_golden");
}
