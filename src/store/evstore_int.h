/* evstore_int.h - internals shared by evstore.c (writing, retention) and
 * evstore_query.c (reading). Not for other modules. */
#ifndef VIGIL_EVSTORE_INT_H
#define VIGIL_EVSTORE_INT_H
#include <limits.h>
#include <sqlite3.h>
#include "store/sqlerr.h"
#include <zlib.h>
#include "lib/hashmap.h"
#include "store/evstore.h"

#define EVS_MAX_RAW (64u << 20) /* largest decoded chunk accepted */

/* One open or queued chunk of one resource. */
struct evchunk {
	struct evres *res;
	struct evchunk *onext, *oprev; /* open list (FIFO by opening) */
	struct evchunk *wnext;	       /* write list */
	struct evchunk_enc *enc;       /* NULL once sealed */
	uint8_t *buf;
	size_t len, cap;
	uint32_t n, n_written;
	size_t len_written;	  /* bytes of buf stored as tails */
	uint32_t tails, new_tails; /* tail rows stored */
	uint32_t types;
	uint64_t first_ns, last_ns; /* wall */
	int64_t b2r;
	char host[256];
	int64_t rowid, new_rowid; /* 0: not in the database */
	size_t new_len_written;
	uint64_t opened_mono, dirty_mono;
	int sealed, in_wlist;
};

/* What the recorder knows of one resource (by cgroup key). */
struct evres {
	uint64_t cg_key;
	char key[EVSTORE_KEY_MAX];
	struct resource snap; /* metadata as last seen */
	int snap_known;	      /* snap has the runtime's metadata */
	uint64_t first_ns, last_ns;
	struct evchunk *open;
	uint32_t nchunks; /* chunks in memory referring to this */
	int orphan;	  /* out of the map: freed with its last chunk */
	int64_t batch_id; /* resources.id within the current write */
	uint64_t batch_gen;
	uint64_t batch_last; /* last_ns upserted in the current write, or 0 */
	int64_t db_id;	     /* committed resources.id (valid for res_epoch) */
	uint64_t db_epoch, db_first, db_last; /* as committed in the row */
	int meta_dirty;	     /* metadata changed since the row was written */
};

enum {
	EVS_BEGIN_W,
	EVS_COMMIT,
	EVS_ROLLBACK,
	EVS_RES_PUT,
	EVS_CHUNK_INS,
	EVS_CHUNK_UPD,
	EVS_ALERT_PUT,
	EVS_TAIL_PUT,
	EVS_TAIL_DEL,
	EVS_MAX,
};

struct evstore {
	sqlite3 *db;
	struct evstore_opts o;
	char dir[PATH_MAX];
	char path[PATH_MAX + 16];
	char err[PATH_MAX + 512];
	sqlite3_stmt *st[EVS_MAX];
	struct hashmap *res; /* cg_key -> struct evres * */
	struct evchunk *ohead, *otail;	/* open chunks */
	struct evchunk *whead, *wtail;	/* chunks with unwritten events */
	uint64_t pending;		/* unwritten events */
	uint64_t oldest_dirty;		/* clock of the oldest unwritten */
	uint64_t newest_ns;		/* newest event wall time */
	uint64_t last_fail, last_retention, gen;
	uint64_t res_epoch; /* bumped when resource rows may be deleted */
	z_stream z;
	int z_ok;
	uint8_t *zbuf;
	size_t zcap;
	struct evstore_stats stats;
};

/* Records the failure of `what` in s->err; returns -errno. */
int evs_fail(struct evstore *s, int rc, const char *what);
/* The cached statement `which` (prepared on first use), or NULL + *rc. */
sqlite3_stmt *evs_stmt(struct evstore *s, int which, int *rc);
/* Shared by evstore_write.c and evstore_retain.c: runs cached statement
 * `which` (no rows); rolls back an open transaction; deflates len bytes
 * into s->zbuf (*out bytes); deletes a chunk's tails; retention (see
 * evstore.h). All return 0 or -errno with s->err set. */
int evs_run(struct evstore *s, int which, const char *what);
void evs_rollback(struct evstore *s);
int evs_compress(struct evstore *s, const uint8_t *buf, size_t len,
		 size_t *out);
int evs_del_tails(struct evstore *s, int64_t chunk);
int evs_retention(struct evstore *s, uint64_t now_wall);
/* Returns free pages to the file system: all, or when over a quarter. */
void evs_vacuum(struct evstore *s, int all);
/* Deflates chunks a crash left open; adds their number to *count. */
int evs_recover(struct evstore *s, uint64_t *count);
/* Frees every chunk and resource held in memory (nothing is written). */
void evs_free_chunks(struct evstore *s);
/* Event class bit of a record type (process 1, file 2, network 4, priv 8). */
uint32_t evs_class(uint16_t type);
#endif
