/* rules.c - YAML -> struct ruleset (libyaml's document API). Every key and
 * field is checked at load, with the line of the first problem, so a typo
 * never becomes a rule that silently never fires. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "detect/rules.h"

static const char *known_fields[] = {
	"action", "outcome", "container", "process.name", "process.executable",
	"process.args", "process.parent.name", "process.parent.executable",
	"process.exec_uid", "process.executable.written", "file.path",
	"file.target_path", "any_path", "file.access", "destination.ip",
	"destination.port", "source.port", "dns.question.name", "user.id",
	"user.effective.id", "privilege.target_uid", "privilege.caps",
	"privilege.ptrace_request", "privilege.namespaces", "exe.memfd",
	"exe.deleted", "stdin.socket", "stdout.socket", "container.image",
	"container.name", "service.name", "time.hour", "time.weekday",
	"resource.age",
};

int rules_field_known(const char *name)
{
	for (size_t i = 0; i < sizeof(known_fields) / sizeof(known_fields[0]); i++)
		if (!strcmp(name, known_fields[i]))
			return 1;
	return 0;
}

struct pctx {
	yaml_document_t *doc;
	const char *name;
	char *err;
	size_t errlen;
};

static int fail(struct pctx *p, yaml_node_t *n, const char *msg, const char *what)
{
	snprintf(p->err, p->errlen, "%s:%zu: %s%s%s%s", p->name,
		 n ? n->start_mark.line + 1 : 0, msg, what ? " '" : "",
		 what ? what : "", what ? "'" : "");
	return -EINVAL;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
						: NULL;
}

static int add_value(struct rule_cond *c, const char *v)
{
	char **nv = realloc(c->values, (c->n_values + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	c->values = nv;
	c->values[c->n_values] = strdup(v);
	if (!c->values[c->n_values])
		return -ENOMEM;
	c->n_values++;
	return 0;
}

/* A map of field: value | [values] into a group. */
static int parse_group(struct pctx *p, yaml_node_t *map, struct rule_group *g)
{
	if (map->type != YAML_MAPPING_NODE)
		return fail(p, map, "expected a map of field: values", NULL);
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		const char *key = scalar(k);
		struct rule_cond *c, *nc;

		if (!key || !rules_field_known(key))
			return fail(p, k, "unknown field", key ? key : "?");
		nc = realloc(g->conds, (g->n + 1) * sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		g->conds = nc;
		c = &g->conds[g->n++];
		memset(c, 0, sizeof(*c));
		c->field = strdup(key);
		if (!c->field)
			return -ENOMEM;
		if (scalar(v)) {
			if (add_value(c, scalar(v)) < 0)
				return -ENOMEM;
		} else if (v && v->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				const char *s = scalar(yaml_document_get_node(p->doc, *it));

				if (!s)
					return fail(p, v, "values must be text", key);
				if (add_value(c, s) < 0)
					return -ENOMEM;
			}
		} else {
			return fail(p, v, "expected a value or a list for", key);
		}
		if (!c->n_values)
			return fail(p, v, "empty value list for", key);
	}
	return 0;
}

static int set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int parse_rule(struct pctx *p, yaml_node_t *map, struct rule *r)
{
	if (map->type != YAML_MAPPING_NODE)
		return fail(p, map, "a rule must be a map", NULL);
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		const char *key = scalar(k), *s = scalar(v);
		int rc = 0;

		if (!key)
			return fail(p, k, "bad key", NULL);
		if (!strcmp(key, "id") || !strcmp(key, "title") ||
		    !strcmp(key, "description")) {
			if (!s)
				return fail(p, v, "expected text for", key);
			rc = set_str(!strcmp(key, "id") ? &r->id :
				     !strcmp(key, "title") ? &r->title
							   : &r->description, s);
		} else if (!strcmp(key, "score")) {
			char *end;
			long sc = s ? strtol(s, &end, 10) : -1;

			if (!s || *end || sc < 0 || sc > 100)
				return fail(p, v, "score must be 0-100", NULL);
			r->score = (int)sc;
		} else if (!strcmp(key, "mitre")) {
			if (!v || v->type != YAML_SEQUENCE_NODE)
				return fail(p, v, "mitre must be a list", NULL);
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				const char *t = scalar(yaml_document_get_node(p->doc, *it));

				if (!t || t[0] != 'T' || r->n_mitre == RULE_MAX_MITRE)
					return fail(p, v, "bad MITRE technique id", t);
				r->mitre[r->n_mitre] = strdup(t);
				if (!r->mitre[r->n_mitre++])
					return -ENOMEM;
			}
		} else if (!strcmp(key, "match") || !strcmp(key, "except")) {
			rc = parse_group(p, v, !strcmp(key, "match") ? &r->match
								      : &r->except);
		} else if (!strcmp(key, "any")) {
			if (!v || v->type != YAML_SEQUENCE_NODE)
				return fail(p, v, "any must be a list of maps", NULL);
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				struct rule_group *ng =
					realloc(r->any, (r->n_any + 1) * sizeof(*ng));

				if (!ng)
					return -ENOMEM;
				r->any = ng;
				memset(&r->any[r->n_any], 0, sizeof(*ng));
				rc = parse_group(p, yaml_document_get_node(p->doc, *it),
						 &r->any[r->n_any++]);
				if (rc < 0)
					return rc;
			}
		} else {
			return fail(p, k, "unknown rule key", key);
		}
		if (rc < 0)
			return rc;
	}
	if (!r->id || !r->title)
		return fail(p, map, "a rule needs an id and a title", NULL);
	if (!r->match.n && !r->n_any)
		return fail(p, map, "a rule needs match or any:", r->id);
	if (!r->description && set_str(&r->description, "") < 0)
		return -ENOMEM;
	return 0;
}

static void free_group(struct rule_group *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->conds[i].field);
		for (size_t k = 0; k < g->conds[i].n_values; k++)
			free(g->conds[i].values[k]);
		free(g->conds[i].values);
	}
	free(g->conds);
}

static void free_rule(struct rule *r)
{
	free(r->id);
	free(r->title);
	free(r->description);
	for (size_t i = 0; i < r->n_mitre; i++)
		free(r->mitre[i]);
	free_group(&r->match);
	free_group(&r->except);
	for (size_t i = 0; i < r->n_any; i++)
		free_group(&r->any[i]);
	free(r->any);
}

void rules_free(struct ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++)
		free_rule(&rs->rules[i]);
	free(rs->rules);
	free(rs);
}

struct ruleset *rules_parse(const char *text, size_t len, const char *name,
			    char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct ruleset *rs = calloc(1, sizeof(*rs));
	struct pctx p = {&doc, name, err, errlen};
	int rc = 0;

	if (!rs)
		return NULL;
	if (!yaml_parser_initialize(&parser)) {
		free(rs);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%zu: %s", name,
			 parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "YAML error");
		yaml_parser_delete(&parser);
		free(rs);
		return NULL;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		rc = fail(&p, NULL, "no rules", NULL);
	} else if (root->type != YAML_SEQUENCE_NODE) {
		rc = fail(&p, root, "expected a list of rules", NULL);
	} else {
		for (yaml_node_item_t *it = root->data.sequence.items.start;
		     it < root->data.sequence.items.top && rc == 0; it++) {
			struct rule *nr = realloc(rs->rules, (rs->n + 1) * sizeof(*nr));

			if (!nr) {
				rc = -ENOMEM;
				break;
			}
			rs->rules = nr;
			memset(&rs->rules[rs->n], 0, sizeof(*nr));
			rs->n++;
			rc = parse_rule(&p, yaml_document_get_node(&doc, *it),
					&rs->rules[rs->n - 1]);
			for (size_t i = 0; rc == 0 && i + 1 < rs->n; i++)
				if (!strcmp(rs->rules[i].id, rs->rules[rs->n - 1].id))
					rc = fail(&p, yaml_document_get_node(&doc, *it),
						  "duplicate rule id",
						  rs->rules[i].id);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "%s: out of memory", name);
		rules_free(rs);
		return NULL;
	}
	return rs;
}

int rules_merge(struct ruleset *a, struct ruleset *b, char *err, size_t errlen)
{
	struct rule *nr;

	for (size_t i = 0; i < b->n; i++)
		for (size_t k = 0; k < a->n; k++)
			if (!strcmp(a->rules[k].id, b->rules[i].id)) {
				snprintf(err, errlen, "duplicate rule id '%s'",
					 b->rules[i].id);
				return -EEXIST;
			}
	nr = realloc(a->rules, (a->n + b->n) * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	a->rules = nr;
	memcpy(a->rules + a->n, b->rules, b->n * sizeof(*nr));
	a->n += b->n;
	free(b->rules);
	b->rules = NULL;
	b->n = 0;
	return 0;
}
