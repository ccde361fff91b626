/* rules.h - detection rules: a small declarative language in YAML
 * (rules/builtin.yaml is the reference) parsed into rule structs.
 *
 * A rule fires when every condition under `match` holds, at least one
 * group under `any` holds (if there are groups), and no condition under
 * `except` holds. A condition names a field (docs/detections.md) and a list
 * of values, any of which may match: shell globs for text, "!v" for "not
 * v". */
#ifndef VIGIL_RULES_H
#define VIGIL_RULES_H

#include <stddef.h>

#define RULE_MAX_MITRE 8

struct rule_cond {
	char *field;
	char **values;
	size_t n_values;
};

struct rule_group {
	struct rule_cond *conds;
	size_t n;
};

struct rule {
	char *id, *title, *description;
	int score;
	char *mitre[RULE_MAX_MITRE];
	size_t n_mitre;
	struct rule_group match, except;
	struct rule_group *any;
	size_t n_any;
};

struct ruleset {
	struct rule *rules;
	size_t n;
};

/* Parses YAML text (name is used in messages). Returns a ruleset or NULL
 * with a message like "rules.yaml:12: unknown field 'proces.name'". */
struct ruleset *rules_parse(const char *text, size_t len, const char *name,
			    char *err, size_t errlen);
/* Appends the rules of b to a (b is emptied); -EEXIST on a duplicate id. */
int rules_merge(struct ruleset *a, struct ruleset *b, char *err, size_t errlen);
void rules_free(struct ruleset *rs);
/* 1 if name is a field the detection engine knows. */
int rules_field_known(const char *name);

/* The built-in rules (rules/builtin.yaml, compiled in). */
extern const char rules_builtin_yaml[];
extern const size_t rules_builtin_yaml_len;
#endif
