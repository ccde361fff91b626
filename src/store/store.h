/* store.h - the agent's embedded SQLite store, DIR/vigil.db: learned
 * models (with every entry's provenance and the hour-of-week rate maxima),
 * behaviour awaiting a person's approval ("pending"), and a control queue
 * through which `vigil model` hands commands to a running agent.
 *
 * The database runs in WAL mode with synchronous=NORMAL and a 5 s busy
 * timeout, so the CLI can read while the agent writes. Its schema version
 * is PRAGMA user_version (STORE_SCHEMA_VERSION); newer stores are refused.
 *
 * Errors: functions returning int give 0 (or a documented count) on
 * success or a negative errno: -ENOSPC when the disk (or the database's
 * page limit) is full, -EIO on other write/read failures, -EUCLEAN when
 * SQLite finds the file corrupt, -EBUSY when locked out (after the busy
 * timeout), -ENOMEM, -EINVAL for bad arguments or rows. After a failure
 * store_errmsg() gives a message including SQLite's. Nothing here aborts.
 * A failed write leaves the database as it was before the call (every
 * write is one transaction).
 *
 * A store is not thread-safe: use one per thread. Functions taking a
 * struct store * require it to be non-NULL unless stated otherwise. */
#ifndef VIGIL_STORE_H
#define VIGIL_STORE_H
#include <stddef.h>
#include <stdint.h>
#include "model/model.h"

#define STORE_SCHEMA_VERSION 1
#define STORE_DB_NAME "vigil.db"
#define STORE_LOCK_NAME "agent.lock"
#define STORE_DEFAULT_DIR "/var/lib/vigil"

struct store;
struct sqlite3;

/* Opens DIR/vigil.db. With create, makes DIR (mode 0700, parents 0755) and
 * the database when missing; without, a missing database is ENOENT.
 * Checks the file (PRAGMA quick_check) and the schema version and creates
 * the schema of a new database. Returns NULL with errno set and a one-line
 * explanation in err (NUL-terminated, truncated to errlen; err may be NULL
 * when errlen is 0): EUCLEAN when the file is corrupt or not an SQLite
 * database (the message says how to move it aside), EPROTO when its
 * schema is newer than this build, ENOENT, EACCES, ENOMEM, EIO. */
struct store *store_open(const char *dir, int create, char *err, size_t errlen);

/* Closes the database and releases the agent lock. Accepts NULL. */
void store_close(struct store *s);

/* The message of the last failure ("" if none). Valid until the next call
 * on s. */
const char *store_errmsg(const struct store *s);

/* The underlying SQLite connection (diagnostics and tests only). */
struct sqlite3 *store_db(struct store *s);

/* Writes every model of models[0..n) for which model_dirty() is set, in one
 * transaction: the model's row is replaced, its entries and rates are
 * deleted and rewritten (rates only where non-zero). Pending rows are not
 * touched. Dirty flags are cleared only after the commit succeeded; on
 * failure nothing is written and every flag is left set. models may hold
 * NULLs (skipped). Returns the number of models written or -errno. */
int store_save_models(struct store *s, struct model **models, size_t n);

/* Loads every model (in key order) and hands each to fn, which owns it from
 * then on (also when fn fails). Loaded models are not dirty. Stops at the
 * first fn returning < 0 and returns that value; otherwise the number of
 * models loaded, or -errno (-EINVAL for a row that cannot be a model, e.g.
 * an unknown kind; store_errmsg names it). Entries of dimensions this build
 * does not know are skipped. fn may call other store functions. */
int store_load_models(struct store *s, int (*fn)(void *ctx, struct model *m),
		      void *ctx);

/* Loads one model (not dirty). NULL with errno ENOENT when there is no
 * model with that key, or another errno on failure. */
struct model *store_load_model(struct store *s, const char *key);

/* Deletes a model with its entries, rates and pending rows. 0, -ENOENT
 * when there was nothing with that key, or -errno. */
int store_delete_model(struct store *s, const char *key);

/* Records behaviour reported but not learned: inserts (model, dim, item)
 * with hits 1, first_ns now_ns and the reason, or adds one to the hits of
 * the existing row (keeping its first time and reason). reason may be
 * NULL (""). */
int store_pending_add(struct store *s, const char *model, const char *dim,
		      const char *item, uint64_t now_ns, const char *reason);

/* Calls fn for each pending row of model (NULL: all models), ordered by
 * model, dim, item. The rows are read first, so fn may change the store.
 * Stops at the first fn returning non-zero and returns that value;
 * otherwise the number of rows, or -errno. */
int store_pending_each(struct store *s, const char *model,
		       int (*fn)(void *ctx, const char *model, const char *dim,
				 const char *item, uint64_t first_ns,
				 uint64_t hits, const char *reason),
		       void *ctx);

/* Removes one pending row: 0, -ENOENT if absent, or -errno. */
int store_pending_remove(struct store *s, const char *model, const char *dim,
			 const char *item);

/* Appends a command for the running agent (cmd e.g. "relearn", arg may be
 * NULL for ""). */
int store_ctl_push(struct store *s, const char *model, const char *cmd,
		   const char *arg, uint64_t now_ns);

/* Takes the queued commands in the order they were pushed: calls fn for
 * each, then deletes those fn was called for, in one transaction. No
 * transaction is open while fn runs, so fn may use the store; commands
 * pushed meanwhile stay for the next call. If the process dies before the
 * delete, the commands are delivered again (at least once). Stops at the
 * first fn returning < 0 (that command counts as taken) and returns its
 * value; otherwise the number of commands, or -errno. */
int store_ctl_take(struct store *s,
		   int (*fn)(void *ctx, const char *model, const char *cmd,
			     const char *arg),
		   void *ctx);

/* Takes an exclusive lock on DIR/agent.lock, kept until store_close():
 * 0 (also when s already holds it), -EBUSY when another agent (any other
 * open of the lock file, even in this process) holds it, or -errno. */
int store_lock_agent(struct store *s);

/* 1 when some process holds the agent lock of dir, 0 when none does (or
 * there is no lock file), -errno when it cannot be checked. */
int store_agent_running(const char *dir);

/* ---- enforcement modes (store_modes.c) ----
 * The mode `vigil mode set` gave a resource, kept across agent restarts in
 * the table modes(key TEXT PRIMARY KEY, mode TEXT, since_ns INT). The table
 * is created by the first store_mode_put() (a store without it has no
 * modes; the schema version is unchanged, and builds that do not know the
 * table ignore it). Keys are the resource's full container id, as the
 * agent resolves RESOURCE of `vigil mode set` (any string of 1 to
 * STORE_MODE_KEY_MAX - 1 bytes is accepted). Modes are "learn", "monitor",
 * "shadow" and "protect". Errors as above; a row whose mode is not one of
 * these (written by something else) is -EINVAL with store_errmsg() naming
 * its key and value. */
#define STORE_MODE_KEY_MAX 256
#define STORE_MODE_MAX 16 /* enough for any mode name and its NUL */

/* Sets key's mode (replacing any), recording now_ns as when it was set.
 * -EINVAL for an empty or too long key or an unknown mode. */
int store_mode_put(struct store *s, const char *key, const char *mode,
		   uint64_t now_ns);

/* Copies key's mode into buf (cap >= STORE_MODE_MAX always suffices).
 * 0, -ENOENT when key has none, -ERANGE when cap is too small, -EINVAL
 * for an unknown stored mode, or -errno. buf is "" on any failure (when
 * cap > 0). */
int store_mode_get(struct store *s, const char *key, char *buf, size_t cap);

/* Calls fn for each recorded mode, in key order, with the time it was set.
 * The rows are read first, so fn may use the store. Rows with an unknown
 * mode are skipped; after the others were handed to fn the call then
 * returns -EINVAL (store_errmsg() names the first such row), so one bad
 * row does not keep the good ones from being restored. Stops at the first
 * fn returning non-zero and returns that value; otherwise the number of
 * rows handed to fn, or -errno. */
int store_mode_list(struct store *s,
		    int (*fn)(void *ctx, const char *key, const char *mode,
			      uint64_t since_ns),
		    void *ctx);

/* Forgets key's mode: 0, -ENOENT when it had none, or -errno. */
int store_mode_delete(struct store *s, const char *key);
#endif
