/* HTTP response head and MJPEG part parsers; see http_parse.h. */
#include "hal/http_parse.h"

#include <ctype.h>
#include <string.h>

#define FAIL(text) (why ? (void)(*why = (text)) : (void)0, MTB_ERR_PROTO)

static const char *find_bytes(const char *hay, size_t n, const char *needle, size_t m)
{
	if (m == 0 || n < m)
		return NULL;
	for (size_t i = 0; i + m <= n; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0)
			return hay + i;
	return NULL;
}

static bool name_is(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);
	if (n < k + 1 || line[k] != ':')
		return false;
	for (size_t i = 0; i < k; i++)
		if (tolower((unsigned char)line[i]) != name[i])
			return false;
	return true;
}

/* Value of a header line: after ':' and spaces, up to the end (trailing spaces trimmed). */
static void header_value(const char *line, size_t n, const char **v, size_t *vn)
{
	const char *c = memchr(line, ':', n);
	size_t i = (size_t)(c - line) + 1;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	size_t e = n;
	while (e > i && (line[e - 1] == ' ' || line[e - 1] == '\t'))
		e--;
	*v = line + i;
	*vn = e - i;
}

/* Non-negative decimal integer of at most 18 digits. */
static bool parse_uint(const char *s, size_t n, int64_t *out)
{
	if (n == 0 || n > 18)
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

struct headers {
	int64_t content_length;
	bool has_timestamp;
	int64_t timestamp_us;
	char content_type[96];
	char boundary[72];
};

/* Parses header lines in [p, end) (each ending in CRLF or LF). */
static int parse_headers(const char *p, const char *end, struct headers *h, const char **why)
{
	h->content_length = -1;
	h->has_timestamp = false;
	h->content_type[0] = h->boundary[0] = '\0';
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return FAIL("header line without end");
		size_t n = (size_t)(nl - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		if (memchr(p, ':', n) == NULL)
			return FAIL("header line without ':'");
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] < 0x20 && p[i] != '\t')
				return FAIL("control character in a header");
		const char *v;
		size_t vn;
		header_value(p, n, &v, &vn);
		if (name_is(p, n, "content-length")) {
			if (!parse_uint(v, vn, &h->content_length))
				return FAIL("bad Content-Length");
		} else if (name_is(p, n, "x-timestamp-us")) {
			if (!parse_uint(v, vn, &h->timestamp_us))
				return FAIL("bad X-Timestamp-Us");
			h->has_timestamp = true;
		} else if (name_is(p, n, "content-type")) {
			size_t t = 0;
			while (t < vn && v[t] != ';' && v[t] != ' ' && t + 1 < sizeof h->content_type) {
				h->content_type[t] = (char)tolower((unsigned char)v[t]);
				t++;
			}
			h->content_type[t] = '\0';
			const char *b = find_bytes(v, vn, "boundary=", 9);
			if (b) {
				b += 9;
				size_t bn = vn - (size_t)(b - v);
				if (bn && b[0] == '"') {
					b++;
					bn--;
					const char *q = memchr(b, '"', bn);
					if (!q)
						return FAIL("unterminated boundary");
					bn = (size_t)(q - b);
				} else {
					const char *sc = memchr(b, ';', bn);
					if (sc)
						bn = (size_t)(sc - b);
				}
				if (bn == 0 || bn >= sizeof h->boundary)
					return FAIL("bad multipart boundary");
				memcpy(h->boundary, b, bn);
				h->boundary[bn] = '\0';
			}
		}
		p = nl + 1;
	}
	return MTB_OK;
}

int mtb_http_head_parse(const char *buf, size_t len, struct mtb_http_head *h, const char **why)
{
	if (!h || (!buf && len))
		return FAIL("no input");
	if (len == 0)
		return MTB_PARSE_MORE;
	size_t lim = len < MTB_HTTP_HEAD_MAX ? len : MTB_HTTP_HEAD_MAX;
	/* Check the status line as soon as it is there, so junk fails early. */
	const char *nl = memchr(buf, '\n', lim);
	size_t have = nl ? (size_t)(nl - buf) : lim;
	static const char proto[] = "HTTP/1.";
	if (memcmp(buf, proto, have < 7 ? have : 7) != 0)
		return FAIL("not an HTTP response");
	if (!nl)
		return len >= MTB_HTTP_HEAD_MAX ? FAIL("response head too long") : MTB_PARSE_MORE;
	size_t sl = have && buf[have - 1] == '\r' ? have - 1 : have;
	if (sl < 12 || (buf[7] != '0' && buf[7] != '1') || buf[8] != ' ' || (sl > 12 && buf[12] != ' '))
		return FAIL("bad status line");
	int64_t status;
	if (!parse_uint(buf + 9, 3, &status) || status < 100)
		return FAIL("bad status code");
	const char *end = find_bytes(buf, lim, "\r\n\r\n", 4);
	size_t end_len = 4;
	const char *end_lf = find_bytes(buf, lim, "\n\n", 2);
	if (!end || (end_lf && end_lf < end)) {
		end = end_lf;
		end_len = 2;
	}
	if (!end)
		return len >= MTB_HTTP_HEAD_MAX ? FAIL("response head too long") : MTB_PARSE_MORE;
	struct headers hd;
	int rc = parse_headers(nl + 1, end + end_len, &hd, why);
	if (rc != MTB_OK)
		return rc;
	h->status = (int)status;
	h->content_length = hd.content_length;
	h->has_timestamp = hd.has_timestamp;
	h->timestamp_us = hd.timestamp_us;
	memcpy(h->content_type, hd.content_type, sizeof h->content_type);
	memcpy(h->boundary, hd.boundary, sizeof h->boundary);
	h->head_len = (size_t)(end - buf) + end_len;
	return MTB_OK;
}

int mtb_mjpeg_part_parse(const uint8_t *ubuf, size_t len, const char *boundary, struct mtb_mjpeg_part *p,
			 const char **why)
{
	const char *buf = (const char *)ubuf;
	if (!boundary || !p || (!buf && len))
		return FAIL("no input");
	size_t bl = strlen(boundary);
	if (bl == 0 || bl > 70)
		return FAIL("bad boundary");
	if (bl == 0 || bl > 70)
		return FAIL("bad boundary");
	if (len == 0)
		return MTB_PARSE_MORE;
	size_t i = 0;
	while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
		i++;
	if (i > 4)
		return FAIL("blank lines before the boundary");
	/* "--" + boundary; some cameras already put the dashes in the declared boundary. */
	char mark[80];
	size_t ml = bl + 2;
	size_t avail = len - i;
	mark[0] = mark[1] = '-';
	memcpy(mark + 2, boundary, bl);
	if (memcmp(buf + i, mark, avail < ml ? avail : ml) != 0 && bl > 2 && boundary[0] == '-' && boundary[1] == '-') {
		memcpy(mark, boundary, bl);
		ml = bl;
	}
	if (memcmp(buf + i, mark, avail < ml ? avail : ml) != 0)
		return FAIL("part does not start with the boundary");
	if (avail < ml + 2)
		return MTB_PARSE_MORE;
	size_t j = i + ml;
	if (buf[j] == '-' && buf[j + 1] == '-')
		return FAIL("end of the stream");
	/* Rest of the boundary line. */
	const char *nl = memchr(buf + j, '\n', len - j);
	if (!nl)
		return len - j > 80 ? FAIL("boundary line too long") : MTB_PARSE_MORE;
	for (const char *c = buf + j; c < nl; c++)
		if (*c != ' ' && *c != '\t' && *c != '\r')
			return FAIL("junk after the boundary");
	size_t hs = (size_t)(nl - buf) + 1;
	size_t lim = len - hs < MTB_HTTP_HEAD_MAX ? len - hs : MTB_HTTP_HEAD_MAX;
	const char *he = NULL;
	size_t hel = 0;
	if (lim >= 2 && buf[hs] == '\r' && buf[hs + 1] == '\n') {   /* no headers at all */
		he = buf + hs;
		hel = 2;
	} else if (lim >= 1 && buf[hs] == '\n') {
		he = buf + hs;
		hel = 1;
	} else {
		const char *a = find_bytes(buf + hs, lim, "\r\n\r\n", 4), *b = find_bytes(buf + hs, lim, "\n\n", 2);
		if (a && (!b || a <= b)) {
			he = a + 2;
			hel = 2;
		} else if (b) {
			he = b + 1;
			hel = 1;
		}
	}
	if (!he)
		return len - hs >= MTB_HTTP_HEAD_MAX ? FAIL("part headers too long") : MTB_PARSE_MORE;
	struct headers hd;
	int rc = parse_headers(buf + hs, he + hel, &hd, why);
	if (rc != MTB_OK)
		return rc;
	size_t body = (size_t)(he - buf) + hel;
	if (hd.content_length >= 0) {
		if ((uint64_t)hd.content_length > MTB_MJPEG_PART_MAX)
			return FAIL("frame too large");
		if (len - body < (size_t)hd.content_length)
			return MTB_PARSE_MORE;
		p->body_len = (size_t)hd.content_length;
		p->consumed = body + p->body_len;
	} else {
		/* The body ends at CRLF + the next boundary. */
		char next[84];
		next[0] = '\r';
		next[1] = '\n';
		memcpy(next + 2, mark, ml);
		const char *e = find_bytes(buf + body, len - body, next, ml + 2);
		if (!e)
			return len - body > MTB_MJPEG_PART_MAX ? FAIL("frame too large") : MTB_PARSE_MORE;
		p->body_len = (size_t)(e - (buf + body));
		p->consumed = (size_t)(e - buf);
	}
	p->body_off = body;
	p->has_timestamp = hd.has_timestamp;
	p->timestamp_us = hd.timestamp_us;
	return MTB_OK;
}
