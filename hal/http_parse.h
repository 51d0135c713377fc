/* meterbench hal: pure parsers for cameras on HTTP (a lab IP camera, the simulator's cameras):
 * the head of an HTTP response and the parts of an MJPEG multipart/x-mixed-replace stream.
 * No I/O; each has a fuzz target. */
#ifndef MTB_HAL_HTTP_PARSE_H
#define MTB_HAL_HTTP_PARSE_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returned (positive) when the buffer holds a valid beginning but not yet the whole thing. */
#define MTB_PARSE_MORE 1

#define MTB_HTTP_HEAD_MAX 16384            /* longest response head accepted */
#define MTB_MJPEG_PART_MAX (16u << 20)     /* largest frame accepted */

struct mtb_http_head {
	int status;                 /* 200, 404 ... */
	int64_t content_length;     /* -1 when absent */
	char content_type[96];      /* without parameters, lower case: "image/jpeg" */
	char boundary[72];          /* multipart boundary parameter, "" if none */
	bool has_timestamp;         /* X-Timestamp-Us header (the simulator's clock) */
	int64_t timestamp_us;
	size_t head_len;            /* bytes up to and including the blank line */
};

/* Parses "HTTP/1.x NNN ...\r\n" + headers + "\r\n" at the start of buf. MTB_OK, MTB_PARSE_MORE,
 * or MTB_ERR_PROTO (why: static reason). */
int mtb_http_head_parse(const char *buf, size_t len, struct mtb_http_head *h, const char **why);

struct mtb_mjpeg_part {
	size_t body_off, body_len;  /* the frame inside buf */
	size_t consumed;            /* bytes of buf this part used (drop them before the next) */
	bool has_timestamp;
	int64_t timestamp_us;
};

/* Parses the next part at the start of buf ("--BOUNDARY" line, headers, blank line, body; the
 * body's end is its Content-Length or the next boundary line). */
int mtb_mjpeg_part_parse(const uint8_t *buf, size_t len, const char *boundary, struct mtb_mjpeg_part *p,
			 const char **why);

#ifdef __cplusplus
}
#endif
#endif
