/* sink_file.c - alerts as lines (one rendered alert + '\n') on stdout or
 * appended to a file (--alerts FILE), flushed after every alert so a
 * tail -f or a log shipper sees each one at once.
 *
 * Invariants: stdout is never closed here; a failed write is counted and
 * the stream's error flag cleared so the next alert is tried again. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "alert/sink.h"

struct file_sink {
	struct alert_sink base;
	FILE *f;
	int owned;
	struct jsonw *w;
	struct strbuf line;
	struct alert_sink_stats st;
};

static int file_write(struct alert_sink *s, const struct alert_doc *d)
{
	struct file_sink *fs = (struct file_sink *)s;
	const char *p;
	size_t n;
	int rc = alert_render(s->fmt, d, fs->w, &fs->line);

	if (rc < 0) {
		fs->st.failed++;
		return rc;
	}
	strbuf_addc(&fs->line, '\n');
	p = strbuf_data(&fs->line, &n);
	errno = 0;
	if (fwrite(p, 1, n, fs->f) != n || fflush(fs->f) != 0) {
		rc = -(errno ? errno : EIO);
		clearerr(fs->f);
		fs->st.failed++;
		return rc;
	}
	fs->st.sent++;
	return 0;
}

static int file_flush(struct alert_sink *s)
{
	struct file_sink *fs = (struct file_sink *)s;

	return fflush(fs->f) ? -errno : 0;
}

static void file_stats(struct alert_sink *s, struct alert_sink_stats *out)
{
	*out = ((struct file_sink *)s)->st;
}

static void file_close(struct alert_sink *s)
{
	struct file_sink *fs = (struct file_sink *)s;

	if (fs->owned && fs->f)
		fclose(fs->f);
	jsonw_free(fs->w);
	strbuf_free(&fs->line);
	free(fs);
}

static const struct alert_sink_ops file_ops = {
	.name = "file",
	.write = file_write,
	.flush = file_flush,
	.stats = file_stats,
	.close = file_close,
};

static struct file_sink *new_sink(enum alert_fmt fmt)
{
	struct file_sink *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return NULL;
	fs->base.ops = &file_ops;
	fs->base.fmt = fmt;
	fs->w = jsonw_new();
	if (!fs->w) {
		free(fs);
		return NULL;
	}
	return fs;
}

struct alert_sink *sink_file_stdout(enum alert_fmt fmt)
{
	struct file_sink *fs = new_sink(fmt);

	if (!fs)
		return NULL;
	fs->f = stdout;
	snprintf(fs->base.label, sizeof(fs->base.label), "stdout (%s)",
		 alert_fmt_name(fmt));
	return &fs->base;
}

struct alert_sink *sink_file_open(const char *path, enum alert_fmt fmt,
				  char *err, size_t cap)
{
	struct file_sink *fs = new_sink(fmt);

	if (!fs) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	fs->f = fopen(path, "a");
	if (!fs->f) {
		snprintf(err, cap, "cannot open alerts file '%s': %s", path,
			 strerror(errno));
		file_close(&fs->base);
		return NULL;
	}
	fs->owned = 1;
	snprintf(fs->base.label, sizeof(fs->base.label), "file %s (%s)", path,
		 alert_fmt_name(fmt));
	return &fs->base;
}
