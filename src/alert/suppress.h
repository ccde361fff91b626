/* suppress.h - alert suppressions: (rule, resource, item glob) with an
 * expiry and a reason, kept in the model store's database (vigil.db) so
 * `vigil alerts suppress|ack` and the running agent share them. The agent
 * reloads them every second. Rule keys: a detection's rule id, or
 * "model:<dimension>" for model anomalies; resource keys as models name
 * them ("container:<id>", "service:<unit>"); "*" matches anything. */
#ifndef VIGIL_SUPPRESS_H
#define VIGIL_SUPPRESS_H
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

struct suppressions;

/* until_ns 0 = never expires. 0 or -EIO. */
int suppress_add(sqlite3 *db, const char *rule, const char *resource,
		 const char *item, uint64_t until_ns, const char *reason,
		 uint64_t now_ns);
/* The rules in force (not expired at now_ns); NULL on error. */
struct suppressions *suppress_load(sqlite3 *db, uint64_t now_ns);
/* 1 when an alert (rule, resource, item) at time at_ns is suppressed. */
int suppress_match(const struct suppressions *s, const char *rule,
		   const char *resource, const char *item, uint64_t at_ns);
size_t suppress_count(const struct suppressions *s);
void suppress_free(struct suppressions *s);
/* Prints every suppression (expired ones marked); returns the count. */
int suppress_print(sqlite3 *db, FILE *out, uint64_t now_ns);
#endif
