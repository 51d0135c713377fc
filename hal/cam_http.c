/* Camera driver: a lab IP camera on HTTP (http://HOST[:PORT]/PATH) over a plain socket.
 * A JPEG answer is a snapshot (one connection per grab); a multipart/x-mixed-replace answer is
 * an MJPEG stream, kept open between grabs, each grab returning the newest complete frame.
 * Parsing is done by the pure parsers of http_parse.h. */
#include "hal/camera_priv.h"
#include "hal/http_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct http_cam {
	char host[128], port[8], path[200];
	int fd;                 /* open stream, or -1 */
	char boundary[72];
	uint8_t *buf;
	size_t len, cap;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int http_open(struct mtb_camera *cam, struct mtb_errbuf *eb)
{
	const char *u = cam->cfg.uri + strlen("http://");
	const char *slash = strchr(u, '/');
	size_t hl = slash ? (size_t)(slash - u) : strlen(u);
	struct http_cam *h = calloc(1, sizeof *h);
	if (!h)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "out of memory");
	h->fd = -1;
	const char *colon = memchr(u, ':', hl);
	size_t host_len = colon ? (size_t)(colon - u) : hl;
	size_t port_len = colon ? hl - host_len - 1 : 2;
	if (host_len == 0 || host_len >= sizeof h->host || port_len == 0 || port_len >= sizeof h->port ||
	    strlen(slash ? slash : "/") >= sizeof h->path) {
		free(h);
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': expected http://HOST[:PORT]/PATH", cam->cfg.uri);
	}
	memcpy(h->host, u, host_len);
	if (colon)
		memcpy(h->port, colon + 1, port_len);
	else
		strcpy(h->port, "80");
	for (const char *p = h->port; *p; p++)
		if (*p < '0' || *p > '9') {
			free(h);
			return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': bad port", cam->cfg.uri);
		}
	snprintf(h->path, sizeof h->path, "%s", slash ? slash : "/");
	cam->priv = h;
	return MTB_OK;
}

static void drop_stream(struct http_cam *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->len = 0;
}

static void http_close(struct mtb_camera *cam)
{
	struct http_cam *h = cam->priv;
	drop_stream(h);
	free(h->buf);
	free(h);
}

static int connect_to(struct http_cam *h, int timeout_ms, struct mtb_errbuf *eb)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int e = getaddrinfo(h->host, h->port, &hints, &ai);
	if (e != 0)
		return mtb_errbuf_set(eb, MTB_ERR_IO, "%s: %s", h->host, gai_strerror(e));
	int fd = -1, err = ECONNREFUSED;
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
			err = errno;
			close(fd);
			fd = -1;
			continue;
		}
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		socklen_t sl = sizeof err;
		if (poll(&p, 1, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0 || err != 0) {
			if (err == 0)
				err = ETIMEDOUT;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		char msg[96];
		if (strerror_r(err, msg, sizeof msg) != 0)
			snprintf(msg, sizeof msg, "error %d", err);
		return mtb_errbuf_set(eb, MTB_ERR_IO, "cannot connect to %s:%s: %s", h->host, h->port, msg);
	}
	h->fd = fd;
	h->len = 0;
	return MTB_OK;
}

static int send_all(int fd, const char *s, size_t n, int64_t deadline)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w > 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return MTB_ERR_IO;
		int64_t left = deadline - mono_ms();
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return MTB_ERR_TIMEOUT;
	}
	return MTB_OK;
}

/* Appends what arrives before deadline (at least one byte) to the buffer. With deadline 0,
 * only what is there already. 0 bytes at end of stream -> MTB_ERR_IO. */
static int recv_some(struct http_cam *h, int64_t deadline)
{
	if (h->cap - h->len < 65536) {
		size_t nc = h->cap ? h->cap * 2 : 262144;
		if (nc > MTB_MJPEG_PART_MAX + MTB_HTTP_HEAD_MAX + 65536u * 4)
			return MTB_ERR_RANGE;
		uint8_t *nb = realloc(h->buf, nc);
		if (!nb)
			return MTB_ERR_NOMEM;
		h->buf = nb;
		h->cap = nc;
	}
	for (;;) {
		ssize_t r = recv(h->fd, h->buf + h->len, h->cap - h->len, 0);
		if (r > 0) {
			h->len += (size_t)r;
			return MTB_OK;
		}
		if (r == 0)
			return MTB_ERR_IO;
		if (errno != EAGAIN && errno != EINTR)
			return MTB_ERR_IO;
		if (deadline == 0)
			return MTB_PARSE_MORE;
		int64_t left = deadline - mono_ms();
		struct pollfd p = { .fd = h->fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return MTB_ERR_TIMEOUT;
	}
}

static void consume(struct http_cam *h, size_t n)
{
	memmove(h->buf, h->buf + n, h->len - n);
	h->len -= n;
}

static int decode_frame(struct mtb_camera *cam, const uint8_t *data, size_t len, bool has_ts, int64_t ts,
			struct mtb_image **out, struct mtb_errbuf *eb)
{
	char err[256] = "";
	int rc = mtb_cv_decode(data, len, out, err, sizeof err);
	if (rc != MTB_OK)
		return mtb_errbuf_set(eb, rc, "%s: %s", cam->cfg.uri, err);
	(*out)->t_mono_us = has_ts ? ts : mtb_clock_now_us(cam->clock);
	return MTB_OK;
}

/* The newest complete MJPEG part: first whatever is already buffered or waiting in the socket,
 * else wait for the next one. */
static int stream_grab(struct mtb_camera *cam, struct http_cam *h, struct mtb_image **out, struct mtb_errbuf *eb)
{
	int64_t deadline = mono_ms() + cam->opts.timeout_ms;
	uint8_t *frame = NULL;
	size_t frame_len = 0;
	bool has_ts = false;
	int64_t ts = 0;
	int rc;
	while (recv_some(h, 0) == MTB_OK)
		;
	for (;;) {
		struct mtb_mjpeg_part p;
		const char *why = "";
		rc = mtb_mjpeg_part_parse(h->buf, h->len, h->boundary, &p, &why);
		if (rc == MTB_OK) {
			uint8_t *f = realloc(frame, p.body_len ? p.body_len : 1);
			if (!f) {
				rc = MTB_ERR_NOMEM;
				break;
			}
			frame = f;
			memcpy(frame, h->buf + p.body_off, p.body_len);
			frame_len = p.body_len;
			has_ts = p.has_timestamp;
			ts = p.timestamp_us;
			consume(h, p.consumed);
			continue;
		}
		if (rc != MTB_PARSE_MORE) {
			mtb_errbuf_set(eb, rc, "%s: MJPEG stream: %s", cam->cfg.uri, why);
			break;
		}
		if (frame) {
			rc = MTB_OK;
			break;
		}
		rc = recv_some(h, deadline);
		if (rc != MTB_OK) {
			mtb_errbuf_set(eb, rc == MTB_ERR_TIMEOUT ? MTB_ERR_TIMEOUT : MTB_ERR_IO, "%s: MJPEG stream %s",
				       cam->cfg.uri, rc == MTB_ERR_TIMEOUT ? "sent no frame in time" : "ended");
			rc = rc == MTB_ERR_TIMEOUT ? MTB_ERR_TIMEOUT : MTB_ERR_IO;
			break;
		}
	}
	if (rc == MTB_OK)
		rc = decode_frame(cam, frame, frame_len, has_ts, ts, out, eb);
	else
		drop_stream(h);   /* the next grab reconnects */
	free(frame);
	return rc;
}

static int http_grab(struct mtb_camera *cam, struct mtb_image **out, struct mtb_errbuf *eb)
{
	struct http_cam *h = cam->priv;
	if (h->fd >= 0)
		return stream_grab(cam, h, out, eb);
	int64_t deadline = mono_ms() + cam->opts.timeout_ms;
	int rc = connect_to(h, cam->opts.timeout_ms, eb);
	if (rc != MTB_OK)
		return rc;
	char req[512];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: meterbench\r\nAccept: image/jpeg, multipart/x-mixed-replace\r\n\r\n",
			 h->path, h->host);
	if ((rc = send_all(h->fd, req, (size_t)n, deadline)) != MTB_OK) {
		drop_stream(h);
		return mtb_errbuf_set(eb, rc, "%s: cannot send the request", cam->cfg.uri);
	}
	struct mtb_http_head head;
	const char *why = "";
	for (;;) {
		rc = mtb_http_head_parse((const char *)h->buf, h->len, &head, &why);
		if (rc == MTB_OK)
			break;
		if (rc != MTB_PARSE_MORE) {
			drop_stream(h);
			return mtb_errbuf_set(eb, MTB_ERR_PROTO, "%s: bad HTTP response: %s", cam->cfg.uri, why);
		}
		rc = recv_some(h, deadline);
		if (rc != MTB_OK) {
			drop_stream(h);
			return mtb_errbuf_set(eb, rc == MTB_ERR_TIMEOUT ? rc : MTB_ERR_IO, "%s: %s", cam->cfg.uri,
					      rc == MTB_ERR_TIMEOUT ? "no answer in time" : "connection closed before an answer");
		}
	}
	consume(h, head.head_len);
	if (head.status != 200) {
		drop_stream(h);
		return mtb_errbuf_set(eb, head.status == 404 ? MTB_ERR_NOTFOUND : MTB_ERR_IO, "%s: HTTP status %d",
				      cam->cfg.uri, head.status);
	}
	if (strcmp(head.content_type, "multipart/x-mixed-replace") == 0) {
		if (!head.boundary[0]) {
			drop_stream(h);
			return mtb_errbuf_set(eb, MTB_ERR_PROTO, "%s: multipart answer without a boundary", cam->cfg.uri);
		}
		snprintf(h->boundary, sizeof h->boundary, "%s", head.boundary);
		return stream_grab(cam, h, out, eb);
	}
	/* A snapshot: the body is Content-Length bytes, or everything until the server closes. */
	if (head.content_length > (int64_t)MTB_MJPEG_PART_MAX) {
		drop_stream(h);
		return mtb_errbuf_set(eb, MTB_ERR_RANGE, "%s: image of %lld bytes refused", cam->cfg.uri,
				      (long long)head.content_length);
	}
	while (head.content_length < 0 || h->len < (size_t)head.content_length) {
		rc = recv_some(h, deadline);
		if (rc == MTB_ERR_IO && head.content_length < 0)
			break;   /* end of body */
		if (rc != MTB_OK) {
			drop_stream(h);
			return mtb_errbuf_set(eb, rc == MTB_ERR_TIMEOUT ? rc : MTB_ERR_IO, "%s: image %s", cam->cfg.uri,
					      rc == MTB_ERR_TIMEOUT ? "not received in time" : "cut short");
		}
	}
	size_t body = head.content_length >= 0 ? (size_t)head.content_length : h->len;
	rc = decode_frame(cam, h->buf, body, head.has_timestamp, head.timestamp_us, out, eb);
	drop_stream(h);
	return rc;
}

const struct mtb_camera_driver mtb_cam_http = { "http://", "http", http_open, http_grab, http_close };
