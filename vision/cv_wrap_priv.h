/* meterbench vision, private: the only door to OpenCV. C declarations, no cv:: types; the bodies
 * (cv_wrap.cpp) catch every C++ exception at the boundary and return an enum mtb_err with the
 * detail in eb. Nothing here decides anything about a reading: that is C, in the callers. */
#ifndef MTB_VISION_CV_WRAP_PRIV_H
#define MTB_VISION_CV_WRAP_PRIV_H

#include "core/err.h"
#include "core/image.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Decodes bytes already checked by mtb_image_probe (format known, size sane) into a new BGR
 * image. expect_w/expect_h are the probed dimensions; a decoder that disagrees is an error. */
int mtb_cvw_decode_bgr(const void *data, size_t len, int expect_w, int expect_h,
		       struct mtb_image **out, struct mtb_errbuf *eb);

/* JPEG-encodes img (1, 3 or 4 channels) at quality 1-100 into a malloc'd buffer. */
int mtb_cvw_encode_jpeg(const struct mtb_image *img, int quality, unsigned char **out, size_t *len,
			struct mtb_errbuf *eb);

/* PNG-encodes img (1, 3 or 4 channels, lossless) into a malloc'd buffer. */
int mtb_cvw_encode_png(const struct mtb_image *img, unsigned char **out, size_t *len, struct mtb_errbuf *eb);

/* Converts img to 3-channel BGR and resizes it to dst_w x dst_h with area averaging (the same
 * call the training script makes through cv2), writing dst_h * dst_w * 3 bytes, BGR interleaved. */
int mtb_cvw_resize_bgr(const struct mtb_image *img, int dst_w, int dst_h, unsigned char *dst,
		       struct mtb_errbuf *eb);

/* A network loaded from an ONNX file, run by OpenCV's dnn module on the CPU, one thread. */
struct mtb_cvw_net;
int mtb_cvw_net_load(const char *onnx_path, struct mtb_cvw_net **out, struct mtb_errbuf *eb);
void mtb_cvw_net_destroy(struct mtb_cvw_net *net);
/* Runs one NCHW float batch of n x c x h x w in a single forward pass; copies the flattened
 * first output into out (out_len values, n rows; MTB_ERR_RANGE when the network produces a
 * different count). */
int mtb_cvw_net_run(struct mtb_cvw_net *net, const float *input, int n, int c, int h, int w,
		    float *out, size_t out_len, struct mtb_errbuf *eb);

/* The aligner's planes (vision/register.c): buffers kept between frames, so a camera's frames
 * of one size allocate nothing after the first. */
struct mtb_cvw_planes;
int mtb_cvw_planes_create(struct mtb_cvw_planes **out, struct mtb_errbuf *eb);
void mtb_cvw_planes_destroy(struct mtb_cvw_planes *p);
/* Takes img (1, 3 or 4 channels) as the frame the next levels come from: its grey level
 * 0.114 B + 0.587 G + 0.299 R in floats (a 1-channel image as it is). */
int mtb_cvw_planes_set(struct mtb_cvw_planes *p, const struct mtb_image *img, struct mtb_errbuf *eb);
/* One level of the frame set last: the grey level averaged over f x f blocks (f >= 1) into grey,
 * (width / f) x (height / f) floats, row-major (the last width % f columns and height % f rows
 * left out), and its edge energy into edge (same size): the Sobel gradient magnitude, zero on
 * the outermost ring of pixels, then the mean over 3 x 3, zero on the outermost ring. */
int mtb_cvw_planes_level(struct mtb_cvw_planes *p, int f, float *grey, float *edge, struct mtb_errbuf *eb);

/* Cuts a w x h BGR crop from img (1, 3 or 4 channels) into dst (h rows of dst_stride bytes):
 * crop pixel (x, y) takes the bilinear value of img at m applied to (x, y) (a 3 x 3 homography,
 * row-major, crop pixel -> image pixel, both with pixel centres on integers), the image's
 * border pixels repeated outside it. */
int mtb_cvw_warp_bgr(const struct mtb_image *img, const double *m, int w, int h, unsigned char *dst, size_t dst_stride,
		     struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
