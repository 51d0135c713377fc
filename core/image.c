#include "core/image.h"

#include "core/err.h"

#include <stdlib.h>

int mtb_image_create(struct mtb_image **out, int width, int height, int channels)
{
	if (!out || width <= 0 || height <= 0 ||
	    (channels != 1 && channels != 3 && channels != 4) ||
	    (long)width * height > MTB_IMAGE_MAX_PIXELS)
		return MTB_ERR_ARG;
	struct mtb_image *img = calloc(1, sizeof *img);
	if (!img)
		return MTB_ERR_NOMEM;
	img->width = width;
	img->height = height;
	img->channels = channels;
	img->stride = (size_t)width * (size_t)channels;
	img->data = calloc((size_t)height, img->stride);
	if (!img->data) {
		free(img);
		return MTB_ERR_NOMEM;
	}
	*out = img;
	return MTB_OK;
}

void mtb_image_destroy(struct mtb_image *img)
{
	if (!img)
		return;
	free(img->data);
	free(img);
}
