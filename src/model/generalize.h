/* generalize.h - turns concrete paths and command lines into patterns, so
 * that pids, temp names, hashes and version-like components do not make
 * every file a new model item (rules and examples: docs/generalization.md).
 *
 * Pattern syntax: '#' stands for one run of decimal digits, '*' for any
 * characters within one path component, and "**" as the last component
 * for any number (zero or more) of further components. (Comments write that
 * final component as "/" "**": a C comment cannot hold the two together.)
 *
 * All functions are pure (no state, no allocation) and safe on any input:
 * they never write more than cap bytes, and when cap > 0 the output is
 * always NUL-terminated. The returned length is strlen(out). out must not
 * overlap the input. */
#ifndef VIGIL_GENERALIZE_H
#define VIGIL_GENERALIZE_H
#include <stddef.h>

/* Generalises a path into a pattern. Per component: all digits -> "#";
 * hashes, container ids and UUIDs -> "*"; mktemp-style names after a known
 * prefix -> prefix + "*" (tmp.aB3dE9 -> tmp.*); runs of >= 3 digits inside
 * a component -> "#" (core.12345 -> core.#). For an absolute path, repeated
 * slashes are collapsed, a trailing slash dropped, "." and ".." resolved
 * lexically (never above "/"). A relative path keeps its form ("." and ".."
 * stay); only its components are generalised.
 * If the pattern does not fit in cap - 1 bytes, whole trailing components
 * are replaced by "/" "**" (the result still matches path); when even that
 * does not fit (cap < 4), out is "". gen_path(gen_path(p)) == gen_path(p),
 * and gen_match(gen_path(p), p) == 1 for any normalised path p.
 * path NULL -> "". cap 0 -> nothing written, returns 0. */
size_t gen_path(const char *path, char *out, size_t cap);

/* Generalises a command line: args holds NUL-separated strings in args_len
 * bytes (a final NUL is optional). Writes one line: the arguments joined by
 * ' ', each generalised: starting with '/' -> gen_path (at most 127 bytes,
 * then truncated with "/" "**"); all digits -> "#"; hex- or UUID-like -> "*";
 * anything else kept, cut at 64 bytes + "*". Control bytes (< 0x20, 0x7f)
 * become '?' (bytes >= 0x80 are kept, so UTF-8 survives).
 * At most max_args arguments (max_args <= 0: no limit); when arguments are
 * left out, because of max_args or because they do not fit in cap, the line
 * ends in " ..." after the last whole argument that fits ("..." alone when
 * none fits; "" when cap < 4). */
size_t gen_args(const char *args, size_t args_len, char *out, size_t cap,
		int max_args);

/* The coarser pattern used when a model dimension is full: gen_path, then
 * only the first depth components are kept and any further ones become
 * "/" "**" (depth 2: /var/cache/app/x -> "/var/cache/" "**"; depth <= 0: "/" "**").
 * A path with at most depth components gives the same as gen_path. Same
 * cap and truncation rules as gen_path. */
size_t gen_path_coarse(const char *path, int depth, char *out, size_t cap);

/* 1 if pattern matches path, else 0. path is a concrete path (normalised:
 * matching is lexical, component by component, repeated slashes ignored)
 * or another pattern; then 1 means pattern covers it ('#' covers a literal
 * '#', '*' covers '*' and '#', and a final "**" is covered only by "**").
 * '*' matches any characters within one component; '#' one maximal run of
 * digits; "**" as the whole last component matches zero or more
 * components. Absolute patterns never match relative paths and vice versa.
 * NULL -> 0. */
int gen_match(const char *pattern, const char *path);

#endif
