/* meterbench core: the image buffer that carries a frame from a camera (hal) to a reader
 * (vision), so that those two layers never include each other. 8 bits per channel, rows of
 * `stride` bytes; channels 1 (grey), 3 (BGR, OpenCV's order) or 4 (BGRA). */
#ifndef MTB_CORE_IMAGE_H
#define MTB_CORE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_image {
	int width, height, channels;
	size_t stride;      /* bytes per row, >= width * channels */
	uint8_t *data;      /* owned when created by mtb_image_create */
	int64_t t_mono_us;  /* capture instant on the bench clock; 0 when unknown */
};

/* Largest image any reader accepts: refuses absurd sizes before allocating. */
#define MTB_IMAGE_MAX_PIXELS (64L * 1024 * 1024)

/* Allocates a zeroed image; MTB_ERR_ARG for a bad size or channel count. */
int mtb_image_create(struct mtb_image **out, int width, int height, int channels);
void mtb_image_destroy(struct mtb_image *img);

static inline uint8_t *mtb_image_row(const struct mtb_image *img, int y)
{
	return img->data + (size_t)y * img->stride;
}

#ifdef __cplusplus
}
#endif
#endif
