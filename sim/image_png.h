/* meterbench sim: writing a core image as PNG (through cairo), for rendered dials and crops
 * where lossless files are wanted or the vision library's JPEG encoder is not at hand. */
#ifndef MTB_SIM_IMAGE_PNG_H
#define MTB_SIM_IMAGE_PNG_H

#include "core/err.h"
#include "core/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes a 1-, 3- (BGR) or 4-channel (BGRA, alpha ignored) image to path as an opaque PNG.
 * MTB_ERR_IO with the path and cairo's reason in eb on failure. */
int mtb_image_write_png(const struct mtb_image *img, const char *path, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
