/* Fuzz target: image bytes through the header probe and the decoder (mtb_image_decode), then
 * the decoded image back through the JPEG encoder. */
#include "vision/vision.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mtb_image *img = NULL;
	struct mtb_errbuf eb = { { 0 } };
	int rc = mtb_image_decode(data, size, &img, &eb);
	if (rc == MTB_OK) {
		if (!img || img->channels != 3 || img->width <= 0 || img->height <= 0 ||
		    (long)img->width * img->height > MTB_IMAGE_MAX_PIXELS)
			abort();
		/* Touch every pixel so a short buffer shows under ASan. */
		unsigned sum = 0;
		for (int y = 0; y < img->height; y++)
			for (int x = 0; x < img->width * 3; x++)
				sum += mtb_image_row(img, y)[x];
		(void)sum;
		unsigned char *jpg = NULL;
		size_t len = 0;
		if (img->width <= 65535 && img->height <= 65535 &&
		    mtb_image_encode_jpeg(img, 75, &jpg, &len, &eb) != MTB_OK)
			abort();
		free(jpg);
		mtb_image_destroy(img);
	} else if (img || eb.msg[0] == '\0') {
		abort();   /* a refusal leaves no image and says why */
	}
	return 0;
}
