/* sqlerr.h - SQLite result code -> negative errno, shared by the model
 * store (store.c) and the flight recorder (evstore*.c). */
#ifndef VIGIL_SQLERR_H
#define VIGIL_SQLERR_H

/* 0 for OK/ROW/DONE; -ENOSPC full, -EUCLEAN corrupt or not a database,
 * -EBUSY, -EROFS, -EACCES, -ENOENT, -EINVAL, -ENOMEM; -EIO otherwise. */
int sql_errno(int rc);
#endif
