/* meterbench vision: image files in and out. The header of every file is read here, in C,
 * before any decoder runs: only formats whose dimensions we can check (JPEG, PNG, BMP) go on to
 * OpenCV, and only when their size is sane, so a hostile file cannot make the decoder allocate
 * gigabytes. */
#include "vision/vision.h"

#include "cv_wrap_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest file read from disk: a 64-Mpixel image compresses to far less. */
#define MAX_FILE_BYTES (256L * 1024 * 1024)

static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]; }

/* JPEG: walk the marker segments up to the first start-of-frame (ITU-T T.81, B.1.1.3 and
 * B.2.2: SOFn = FFC0..FFCF except C4 DHT, C8 JPG, CC DAC; Y at +5, X at +7 from the marker). */
static int probe_jpeg(const uint8_t *d, size_t len, int *w, int *h)
{
	size_t i = 2;
	while (i + 4 <= len) {
		if (d[i] != 0xFF)
			return MTB_ERR_ARG;
		uint8_t m = d[i + 1];
		if (m == 0xFF) {               /* fill byte */
			i++;
			continue;
		}
		if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {   /* markers without a length */
			i += 2;
			continue;
		}
		if (m == 0xD9 || m == 0xDA)    /* end of image or start of scan before any frame */
			return MTB_ERR_ARG;
		unsigned seg = be16(d + i + 2);
		if (seg < 2 || i + 2 + seg > len)
			return MTB_ERR_ARG;
		if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
			if (seg < 7)
				return MTB_ERR_ARG;
			*h = (int)be16(d + i + 5);
			*w = (int)be16(d + i + 7);
			return MTB_OK;
		}
		i += 2 + seg;
	}
	return MTB_ERR_ARG;
}

int mtb_image_probe(const void *data, size_t len, int *width, int *height, struct mtb_errbuf *eb)
{
	const uint8_t *d = data;
	int w = 0, h = 0, rc = MTB_ERR_ARG;
	static const uint8_t png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
	if (!d || len < 8)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "cannot decode image: %s", len ? "too short" : "empty");
	if (d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) {
		rc = probe_jpeg(d, len, &w, &h);
	} else if (memcmp(d, png_sig, 8) == 0) {
		/* PNG: IHDR is the first chunk; width, height are big-endian at 16 and 20. */
		if (len >= 24 && memcmp(d + 12, "IHDR", 4) == 0) {
			uint32_t pw = be32(d + 16), ph = be32(d + 20);
			if (pw <= 0x7FFFFFFF && ph <= 0x7FFFFFFF) {
				w = (int)pw;
				h = (int)ph;
				rc = MTB_OK;
			}
		}
	} else if (d[0] == 'B' && d[1] == 'M') {
		/* BMP: BITMAPINFOHEADER (40 bytes or more) width at 18, height at 22, signed
		 * (negative height = top-down rows). The old 12-byte core header is refused. */
		if (len >= 26 && le32(d + 14) >= 40) {
			int32_t bw = (int32_t)le32(d + 18), bh = (int32_t)le32(d + 22);
			if (bw > 0 && bh != 0 && bh != INT32_MIN) {
				w = bw;
				h = bh < 0 ? -bh : bh;
				rc = MTB_OK;
			}
		}
	} else {
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "cannot decode image: not a JPEG, PNG or BMP file");
	}
	if (rc != MTB_OK)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "cannot decode image: corrupt header");
	if (w <= 0 || h <= 0)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "cannot decode image: size %dx%d", w, h);
	if ((long)w * h > MTB_IMAGE_MAX_PIXELS)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "cannot decode image: %dx%d is larger than %ld pixels",
				      w, h, (long)MTB_IMAGE_MAX_PIXELS);
	*width = w;
	*height = h;
	return MTB_OK;
}

int mtb_image_decode(const void *data, size_t len, struct mtb_image **out, struct mtb_errbuf *eb)
{
	int w, h, rc;
	if (!out)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "cannot decode image: no output");
	*out = NULL;
	if ((rc = mtb_image_probe(data, len, &w, &h, eb)) != MTB_OK)
		return rc;
	return mtb_cvw_decode_bgr(data, len, w, h, out, eb);
}

int mtb_image_load(const char *path, struct mtb_image **out, struct mtb_errbuf *eb)
{
	if (!path || !out)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "cannot decode image: no file");
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return mtb_errbuf_set(eb, MTB_ERR_IO, "%s: %s", path, strerror(errno));
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = MTB_OK;
	for (;;) {
		if (len == cap) {
			if (cap >= (size_t)MAX_FILE_BYTES) {
				rc = mtb_errbuf_set(eb, MTB_ERR_ARG, "cannot decode image: file larger than %ld bytes",
						    MAX_FILE_BYTES);
				break;
			}
			size_t ncap = cap ? cap * 2 : 65536;
			unsigned char *nb = realloc(buf, ncap);
			if (!nb) {
				rc = mtb_errbuf_set(eb, MTB_ERR_NOMEM, "cannot decode image: out of memory");
				break;
			}
			buf = nb;
			cap = ncap;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f))
				rc = mtb_errbuf_set(eb, MTB_ERR_IO, "%s: read error", path);
			break;
		}
	}
	fclose(f);
	if (rc == MTB_OK)
		rc = mtb_image_decode(buf, len, out, eb);
	free(buf);
	return rc;
}

int mtb_image_encode_jpeg(const struct mtb_image *img, int quality, unsigned char **out, size_t *len,
			  struct mtb_errbuf *eb)
{
	if (!img || !out || !len)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "cannot encode JPEG: null argument");
	if (quality < 1 || quality > 100)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "cannot encode JPEG: quality %d not in 1-100", quality);
	if (!img->data || img->width <= 0 || img->height <= 0 ||
	    (img->channels != 1 && img->channels != 3 && img->channels != 4) ||
	    img->stride < (size_t)img->width * (size_t)img->channels ||
	    (long)img->width * img->height > MTB_IMAGE_MAX_PIXELS)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "cannot encode JPEG: bad image %dx%d, %d channels",
				      img->width, img->height, img->channels);
	/* JPEG's frame header holds 16-bit dimensions (T.81 B.2.2). */
	if (img->width > 65535 || img->height > 65535)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "cannot encode JPEG: %dx%d exceeds 65535", img->width, img->height);
	return mtb_cvw_encode_jpeg(img, quality, out, len, eb);
}

int mtb_image_encode_png(const struct mtb_image *img, unsigned char **out, size_t *len, struct mtb_errbuf *eb)
{
	if (!img || !out || !len)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "cannot encode PNG: null argument");
	if (!img->data || img->width <= 0 || img->height <= 0 ||
	    (img->channels != 1 && img->channels != 3 && img->channels != 4) ||
	    img->stride < (size_t)img->width * (size_t)img->channels ||
	    (long)img->width * img->height > MTB_IMAGE_MAX_PIXELS)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "cannot encode PNG: bad image %dx%d, %d channels",
				      img->width, img->height, img->channels);
	return mtb_cvw_encode_png(img, out, len, eb);
}
