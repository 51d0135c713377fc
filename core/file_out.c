#include "core/file_out.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int mtb_file_out_tmp(const char *path, char *tmp, size_t tmp_len)
{
	int n = snprintf(tmp, tmp_len, "%s.tmp", path);
	return n < 0 || (size_t)n >= tmp_len ? MTB_ERR_ARG : MTB_OK;
}

int mtb_file_out_commit(const char *tmp, const char *path, bool ok, struct mtb_errbuf *eb)
{
	if (!ok) {
		remove(tmp);
		return mtb_errbuf_set(eb, MTB_ERR_IO, "%s: cannot write", path);
	}
	if (rename(tmp, path) != 0) {
		int rc = mtb_errbuf_set(eb, MTB_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
		remove(tmp);
		return rc;
	}
	return MTB_OK;
}
