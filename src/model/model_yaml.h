/* model_yaml.h - one model as readable, diff-friendly YAML (the format of
 * `vigil model export` / `import`; described in docs/model-cli.md).
 *
 * The output is deterministic: fixed key order, dimensions in enum order,
 * entries sorted by item (bytewise), every free-form string double-quoted
 * with `"`, `\` and control characters escaped, times RFC 3339 UTC with
 * the fraction only as long as needed. Exporting the result of importing an
 * export gives identical bytes. Not exported: the per-dimension "new items
 * ever" counters and the cap-hit counter, which are statistics; an entry's
 * last_week is recomputed from its last_seen on import. Bytes that are not
 * valid UTF-8 are exported as U+FFFD (YAML is Unicode text).
 *
 * Functions returning int give 0 or a negative errno. */
#ifndef VIGIL_MODEL_YAML_H
#define VIGIL_MODEL_YAML_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "model/model.h"

/* Large enough for any myaml_format_time() / myaml_format_duration(). */
#define MYAML_TIME_MAX 40

/* Writes m to out; 0, or -EIO when writing failed, -ENOMEM. */
int myaml_export(const struct model *m, FILE *out);

/* Reads one model from in. The model is new and dirty (so a store save
 * writes it). NULL with errno EINVAL and err set to "line N: ..." (the
 * line the problem is on, 1-based) when the text is not a valid model,
 * ENOMEM, or EIO when reading failed; err is NUL-terminated, truncated to
 * errlen, and may be NULL when errlen is 0. */
struct model *myaml_import(FILE *in, char *err, size_t errlen);

/* ns since the epoch -> "2026-12-02T13:00:01.123Z" (fraction omitted when
 * zero, else 3, 6 or 9 digits). buf needs MYAML_TIME_MAX bytes; returns
 * buf. */
char *myaml_format_time(uint64_t ns, char *buf, size_t len);
/* RFC 3339 UTC ("...Z", 0 to 9 fraction digits) -> ns; -EINVAL if the text
 * is not one or is out of range (before 1970 or past 2554). */
int myaml_parse_time(const char *s, uint64_t *ns);

/* ns -> "0", "7d", "12h", "90s", "1500ms", "3us" or "17ns": the largest
 * unit that divides it exactly. Returns buf. */
char *myaml_format_duration(uint64_t ns, char *buf, size_t len);
/* The reverse: an integer followed by d, h, m, s, ms, us or ns ("0" alone
 * is allowed); -EINVAL if bad or past 2^64 ns. */
int myaml_parse_duration(const char *s, uint64_t *ns);

/* "exec", "connect", "write"; "unknown" past RATE_MAX. */
const char *myaml_rate_name(enum model_rate r);
/* -1 if unknown. */
int myaml_rate_parse(const char *name);

/* Writes s as a YAML double-quoted string (with the quotes). */
void myaml_put_quoted(FILE *out, const char *s);
#endif
