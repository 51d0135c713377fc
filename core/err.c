#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *mtb_strerror(int err)
{
	switch (err) {
	case MTB_OK: return "success";
	case MTB_ERR_ARG: return "invalid argument";
	case MTB_ERR_NOMEM: return "out of memory";
	case MTB_ERR_IO: return "input/output error";
	case MTB_ERR_TIMEOUT: return "timed out";
	case MTB_ERR_PROTO: return "protocol error";
	case MTB_ERR_NOTSUP: return "not supported";
	case MTB_ERR_RANGE: return "out of range";
	case MTB_ERR_NOTFOUND: return "not found";
	case MTB_ERR_STATE: return "invalid state";
	case MTB_ERR_REFUSED: return "refused";
	}
	return "unknown error";
}

int mtb_errbuf_set(struct mtb_errbuf *eb, int err, const char *fmt, ...)
{
	if (eb) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
		va_end(ap);
	}
	return err;
}

int mtb_errbuf_prefix(struct mtb_errbuf *eb, int err, const char *fmt, ...)
{
	if (eb) {
		char prefix[256];
		char old[sizeof eb->msg];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(prefix, sizeof prefix, fmt, ap);
		va_end(ap);
		memcpy(old, eb->msg, sizeof old);
		old[sizeof old - 1] = '\0';
		snprintf(eb->msg, sizeof eb->msg, "%s: %s", prefix, old[0] ? old : mtb_strerror(err));
	}
	return err;
}
