/* meterbench core: one error enum for every library, and a caller-owned detail buffer.
 *
 * Functions return MTB_OK (0) or a negative enum mtb_err. Foreign codes (errno, libmodbus,
 * libserialport, OpenCV exceptions) are translated once, where they arise. Where the reason
 * matters to a person ("field q3_m3h: must be > 0"), the function also fills a struct mtb_errbuf
 * that the caller owns; the code says what kind of failure, the buffer says which and why. */
#ifndef MTB_CORE_ERR_H
#define MTB_CORE_ERR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mtb_err {
	MTB_OK = 0,
	MTB_ERR_ARG = -1,      /* bad argument or bad input data */
	MTB_ERR_NOMEM = -2,
	MTB_ERR_IO = -3,       /* file, socket or device I/O */
	MTB_ERR_TIMEOUT = -4,
	MTB_ERR_PROTO = -5,    /* malformed frame or reply */
	MTB_ERR_NOTSUP = -6,
	MTB_ERR_RANGE = -7,    /* value outside what the model or standard allows */
	MTB_ERR_NOTFOUND = -8,
	MTB_ERR_STATE = -9,    /* call not valid in the object's current state */
	MTB_ERR_REFUSED = -10, /* a reader or check declined to produce a value */
};

/* Static text for an error code; never NULL. */
const char *mtb_strerror(int err);

/* Detail of the last failure, written by the callee, owned by the caller. */
struct mtb_errbuf {
	char msg[512];
};

/* Formats into eb (if eb is not NULL) and returns err, so callers can write
 * `return mtb_errbuf_set(eb, MTB_ERR_ARG, "field %s: ...", name);`. */
int mtb_errbuf_set(struct mtb_errbuf *eb, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with "prefix: " (e.g. the file name); returns err. */
int mtb_errbuf_prefix(struct mtb_errbuf *eb, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif
