/* meterbench core: output files replaced whole or not at all.
 *
 * An output (results, certificates) is written to NAME.tmp beside its name and renamed over NAME
 * once complete: rename(2) replaces a name atomically within a file system, so a crash, a kill
 * or a full disk while writing leaves the previous file whole, never a truncated one. */
#ifndef MTB_CORE_FILE_OUT_H
#define MTB_CORE_FILE_OUT_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The temporary name of path (path + ".tmp") into tmp; MTB_ERR_ARG when it does not fit. */
int mtb_file_out_tmp(const char *path, char *tmp, size_t tmp_len);

/* When ok, renames tmp over path (MTB_ERR_IO naming path and the system's reason if that
 * fails); otherwise, or when the rename fails, removes tmp. Returns MTB_OK only when path now
 * holds the new content. */
int mtb_file_out_commit(const char *tmp, const char *path, bool ok, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
