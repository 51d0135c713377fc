/* meterbench vision: pixels -> numbers, with a confidence, refusing rather than guessing.
 *
 * The public API of the vision library. Images come in as core image buffers; OpenCV stays
 * behind vision's private extern "C" wrapper. Every decision (voting, roll-over, confidence,
 * refusal) is made in C. */
#ifndef MTB_VISION_VISION_H
#define MTB_VISION_VISION_H

#include "core/err.h"
#include "core/image.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One reading of a roller digit or a pointer: a position on the circle [0, 10).
 * For a digit, 2.9 = the roller shows 2 on its way to 3; for a pointer, the dial position in
 * divisions, clockwise from 0. */
struct mtb_reading {
	bool refused;          /* true: value is meaningless, reason says why */
	double value;          /* [0, 10) */
	double confidence;     /* [0, 1] */
	double other;          /* probability within +-0.2 of the likeliest position more than one
				  digit away from value (a second candidate; 0 when none) */
	double within_half;    /* probability within +-0.5 of value: that the element stands at
				  the digit it was read at, or between the two it was read between */
	bool low_confidence;   /* refused only because confidence is below the reader's minimum:
				  recognised, unambiguous, read alike in every view, but not sure to
				  +-0.2 (a roller half-way between two digits looks like this) */
	char reason[96];       /* set when refused */
};

struct mtb_vision;         /* loaded models and reader settings; one per thread */

/* Loads the models from model_dir (NULL: the built-in default, vision/models/ of the source
 * tree or $MTB_MODEL_DIR). */
int mtb_vision_create(struct mtb_vision **out, const char *model_dir, struct mtb_errbuf *eb);
void mtb_vision_destroy(struct mtb_vision *v);

/* Reads one roller-digit crop / one pointer sub-dial crop (any size, 1, 3 or 4 channels).
 * MTB_OK with out->refused = false: a reading. MTB_OK with out->refused = true: the reader
 * declines (blank or tiny crop, nothing recognised, two far-apart candidates, low confidence),
 * out->reason says which. MTB_ERR_ARG for a malformed image struct, MTB_ERR_NOTFOUND when
 * that reader's model is missing from the model folder. */
int mtb_vision_read_digit(struct mtb_vision *v, const struct mtb_image *crop, struct mtb_reading *out);
int mtb_vision_read_needle(struct mtb_vision *v, const struct mtb_image *crop, struct mtb_reading *out);

/* The same for n crops at once (a whole register's rollers, its pointers): every crop's first
 * view goes through the network in one pass, the other views of the crops that need them in a
 * second. With the cascade on (mtb_vision_set_cascade), a crop whose first view is sure --
 * confidence at least the cascade's, "nothing readable" and the mass around any position more
 * than one digit away (other) at most 0.02 -- is decided on that view alone; every other crop is read on all its views with
 * the rules of the single-crop readers, which always read every view. Return codes as above
 * (the first malformed crop fails the call). */
int mtb_vision_read_digits(struct mtb_vision *v, const struct mtb_image *const *crops, int n, struct mtb_reading *out);
int mtb_vision_read_needles(struct mtb_vision *v, const struct mtb_image *const *crops, int n, struct mtb_reading *out);

/* The confidence from which a first view stands alone in the batch readers; 0 turns the cascade
 * off (every view of every crop). Default MTB_VISION_CASCADE_SURE. */
#define MTB_VISION_CASCADE_SURE 0.0
void mtb_vision_set_cascade(struct mtb_vision *v, double sure_confidence);

/* Pointers that a register only checks: every pointer but the finest element. The finest element
 * gives the register's last tenth; a pointer above it only has to show which digit it stands at,
 * and the fusion checks that against the element below (vision/register.h). Read as
 * mtb_vision_read_needles, with a cascade of its own (mtb_vision_set_check, default
 * MTB_VISION_CHECK_SURE): a crop whose first view is sure is decided on it alone. */
int mtb_vision_check_needles(struct mtb_vision *v, const struct mtb_image *const *crops, int n, struct mtb_reading *out);
#define MTB_VISION_CHECK_SURE 0.90
void mtb_vision_set_check(struct mtb_vision *v, double sure_confidence);

/* Reads the dimensions from the header of a JPEG, PNG or BMP file in memory, without decoding.
 * MTB_ERR_ARG ("cannot decode image: ...") for any other format, a corrupt header, or a size
 * of zero or above MTB_IMAGE_MAX_PIXELS. A pure function: every image passes here first. */
int mtb_image_probe(const void *data, size_t len, int *width, int *height, struct mtb_errbuf *eb);

/* Decodes an image file (JPEG, PNG, BMP) into a core image (BGR). MTB_ERR_ARG with a reason in
 * eb for anything that is not a decodable image of sane size ("cannot decode image"). */
int mtb_image_load(const char *path, struct mtb_image **out, struct mtb_errbuf *eb);
/* The same from bytes in memory (a camera's JPEG). */
int mtb_image_decode(const void *data, size_t len, struct mtb_image **out, struct mtb_errbuf *eb);
/* Encodes to JPEG (quality 1-100) into a malloc'd buffer. */
int mtb_image_encode_jpeg(const struct mtb_image *img, int quality, unsigned char **out, size_t *len,
			  struct mtb_errbuf *eb);
/* Encodes to PNG (lossless) into a malloc'd buffer: evidence of what a reader saw, pixel for pixel. */
int mtb_image_encode_png(const struct mtb_image *img, unsigned char **out, size_t *len, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
