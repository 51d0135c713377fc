#include "sim/image_png.h"

#include <cairo.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The image on an opaque cairo surface. */
static int to_surface(const struct mtb_image *img, const char *what, cairo_surface_t **out, struct mtb_errbuf *eb)
{
	*out = NULL;
	if (!img || !img->data || img->width < 1 || img->height < 1 ||
	    (img->channels != 1 && img->channels != 3 && img->channels != 4))
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: not a 1, 3 or 4 channel image", what);
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, img->width, img->height);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(s);
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "%s: cannot allocate %dx%d", what, img->width, img->height);
	}
	cairo_surface_flush(s);
	unsigned char *dst = cairo_image_surface_get_data(s);
	int dstride = cairo_image_surface_get_stride(s);
	for (int y = 0; y < img->height; y++) {
		const uint8_t *p = mtb_image_row(img, y);
		uint32_t *d = (uint32_t *)(void *)(dst + (size_t)y * (size_t)dstride);
		for (int x = 0; x < img->width; x++) {
			uint32_t b, g, r;
			if (img->channels == 1) {
				b = g = r = p[x];
			} else {
				b = p[x * img->channels];
				g = p[x * img->channels + 1];
				r = p[x * img->channels + 2];
			}
			d[x] = 0xff000000u | r << 16 | g << 8 | b;
		}
	}
	cairo_surface_mark_dirty(s);
	*out = s;
	return MTB_OK;
}

int mtb_image_write_png(const struct mtb_image *img, const char *path, struct mtb_errbuf *eb)
{
	cairo_surface_t *s;
	int rc = to_surface(img, path, &s, eb);
	if (rc != MTB_OK)
		return rc;
	cairo_status_t st = cairo_surface_write_to_png(s, path);
	cairo_surface_destroy(s);
	if (st != CAIRO_STATUS_SUCCESS)
		return mtb_errbuf_set(eb, MTB_ERR_IO, "%s: cannot write PNG: %s", path, cairo_status_to_string(st));
	return MTB_OK;
}
