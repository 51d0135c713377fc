/* meterbench read dial: whole registers on image files (CONTRACTS.md). The meter type names
 * its register layout; each frame is aligned, cropped, read element by element and fused
 * (vision/register.h). One JSON object per file, in input order; with --combine, the files
 * are frames of one standing register and one combined object is printed. */
#include "cli.h"
#include "commands.h"

#include "calibration/meter_type.h"
#include "core/json.h"
#include "vision/layout.h"
#include "vision/register.h"
#include "vision/vision.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char MTB_CMD_READ_DIAL_USAGE[] =
	"usage: meterbench read dial --meter TYPE [--models DIR] [--combine] FILE...\n"
	"\n"
	"Reads the whole register of a meter of TYPE (configs/types/NAME.yaml or a path; its\n"
	"register_layout says where the rollers and pointers are) on each image file:\n"
	"  {\"file\":\"m.jpg\",\"volume_l\":123.45678,\"confidence\":0.93,\"resolution_l\":0.00001,\n"
	"   \"digits\":[0.0,0.0,1.0,2.0,3.0,4.0,5.0,6.9],\"pointers\":[7.8,8.0,9.0,1.2]}\n"
	"digits and pointers: what each element's reader saw, on [0, 10). A register that cannot be\n"
	"read with confidence gives \"volume_l\":null and a \"reason\" (the reader refuses rather than\n"
	"guesses: an unreadable or half-turned digit that the element below cannot settle, a face\n"
	"it cannot find). An image that cannot be decoded: {\"file\":..,\"error\":\"cannot decode image\"};\n"
	"the others are still read and the exit status is 1.\n"
	"--combine: the files are frames of one standing register; prints one object with the\n"
	"median volume, refused when any readable frame disagrees with it by more than two steps\n"
	"of the resolution or fewer than half the frames are readable.\n"
	"--models: folder with digit.onnx / needle.onnx (default $MTB_MODEL_DIR, then vision/models/).\n";

static const char *const CMD = "read dial";

struct readers_ctx {
	struct mtb_vision *v;
};

static int rd_digit(void *user, const struct mtb_image *crop, struct mtb_reading *out)
{
	return mtb_vision_read_digit(((struct readers_ctx *)user)->v, crop, out);
}

static int rd_needle(void *user, const struct mtb_image *crop, struct mtb_reading *out)
{
	return mtb_vision_read_needle(((struct readers_ctx *)user)->v, crop, out);
}

static int rd_digits(void *user, const struct mtb_image *const *crops, int n, struct mtb_reading *out)
{
	return mtb_vision_read_digits(((struct readers_ctx *)user)->v, crops, n, out);
}

static int rd_needles(void *user, const struct mtb_image *const *crops, int n, struct mtb_reading *out)
{
	return mtb_vision_read_needles(((struct readers_ctx *)user)->v, crops, n, out);
}

static int rd_check_needles(void *user, const struct mtb_image *const *crops, int n, struct mtb_reading *out)
{
	return mtb_vision_check_needles(((struct readers_ctx *)user)->v, crops, n, out);
}

static void print_elements(const struct mtb_layout *l, const struct mtb_register_result *r)
{
	for (int part = 0; part < 2; part++) {
		fputs(part == 0 ? ",\"digits\":[" : ",\"pointers\":[", stdout);
		int from = part == 0 ? 0 : l->n_rollers, to = part == 0 ? l->n_rollers : mtb_layout_elements(l);
		for (int i = from; i < to; i++) {
			if (i > from)
				fputc(',', stdout);
			const struct mtb_reading *e = &r->element[i];
			if (i >= r->n_elements || e->refused || !(e->value >= 0 && e->value < 10))
				fputs("null", stdout);
			else
				mtb_json_fixed(stdout, lround(e->value * 10.0) % 100, 1);
		}
		fputc(']', stdout);
	}
}

static void print_result(const struct mtb_layout *l, const struct mtb_register_result *r)
{
	fputs(",\"volume_l\":", stdout);
	if (r->refused)
		fputs("null", stdout);
	else
		mtb_json_fixed(stdout, r->volume_ul, 6);
	fputs(",\"confidence\":", stdout);
	mtb_json_fixed(stdout, lround(r->confidence * 100.0), 2);
	fputs(",\"resolution_l\":", stdout);
	mtb_json_fixed(stdout, r->resolution_ul, 6);
	if (r->refused) {
		fputs(",\"reason\":", stdout);
		mtb_json_string(stdout, r->reason);
	}
	print_elements(l, r);
}

int mtb_cmd_read_dial(int argc, char **argv)
{
	struct mtb_cli_opt opts[] = { { "meter", true, 0 }, { "models", true, 0 }, { "combine", false, 0 }, { 0 } };
	const char **files = malloc((size_t)argc * sizeof *files);
	int n_files, rc;
	if (!files)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: out of memory", CMD);
	if ((rc = mtb_cli_parse(CMD, argc, argv, opts, files, argc, &n_files)) != 0) {
		free(files);
		return rc;
	}
	const char *meter = mtb_cli_get(opts, "meter");
	if (!meter) {
		free(files);
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: missing --meter TYPE", CMD);
	}
	if (n_files == 0) {
		free(files);
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: no image file given", CMD);
	}
	struct mtb_errbuf eb = { { 0 } };
	struct mtb_meter_type type;
	struct mtb_layout layout;
	if (mtb_meter_type_load(meter, &type, &eb) != MTB_OK) {
		free(files);
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --meter: %s", CMD, eb.msg);
	}
	if (mtb_layout_load(type.register_layout, &layout, &eb) != MTB_OK) {
		free(files);
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: meter type '%s': register_layout: %s", CMD, type.name, eb.msg);
	}
	struct readers_ctx ctx;
	if ((rc = mtb_vision_create(&ctx.v, mtb_cli_get(opts, "models"), &eb)) != MTB_OK) {
		free(files);
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s", CMD, eb.msg);
	}
	struct mtb_register_readers rd = { rd_digit, rd_needle, &ctx, rd_digits, rd_needles, rd_check_needles };
	bool combine = mtb_cli_get(opts, "combine") != NULL;
	struct mtb_register_result *frames = calloc((size_t)n_files, sizeof *frames);
	if (!frames) {
		mtb_vision_destroy(ctx.v);
		free(files);
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: out of memory", CMD);
	}
	int status = MTB_EXIT_OK;
	for (int i = 0; i < n_files; i++) {
		struct mtb_image *img = NULL;
		struct mtb_register_result *r = &frames[i];
		eb.msg[0] = '\0';
		if (mtb_image_load(files[i], &img, &eb) != MTB_OK) {
			r->refused = true;
			snprintf(r->reason, sizeof r->reason, "%s: cannot decode image", files[i]);
			fputs("{\"file\":", stdout);
			mtb_json_string(stdout, files[i]);
			fputs(",\"error\":\"cannot decode image\",\"detail\":", stdout);
			mtb_json_string(stdout, eb.msg);
			fputs("}\n", stdout);
			status = MTB_EXIT_FAIL;
			continue;
		}
		rc = mtb_register_read(&layout, img, &rd, NULL, r, &eb);
		mtb_image_destroy(img);
		if (rc != MTB_OK) {
			/* a missing model or an OpenCV failure: no other file will fare better */
			fflush(stdout);
			mtb_vision_destroy(ctx.v);
			free(frames);
			rc = mtb_cli_error(MTB_EXIT_FAIL, "%s: %s: %s", CMD, files[i], eb.msg);
			free(files);
			return rc;
		}
		if (combine)
			continue;
		fputs("{\"file\":", stdout);
		mtb_json_string(stdout, files[i]);
		print_result(&layout, r);
		fputs("}\n", stdout);
	}
	if (combine) {
		struct mtb_register_combine_opts co = { 0, 0, 2 * (layout.finest_ul >= 10 ? layout.finest_ul / 10 : 1), 0, 0 };
		struct mtb_register_result out;
		mtb_register_combine(&layout, frames, n_files, &co, &out);
		fputs("{\"files\":[", stdout);
		for (int i = 0; i < n_files; i++) {
			if (i)
				fputc(',', stdout);
			mtb_json_string(stdout, files[i]);
		}
		fputc(']', stdout);
		print_result(&layout, &out);
		fputs("}\n", stdout);
	}
	mtb_vision_destroy(ctx.v);
	free(frames);
	free(files);
	return status;
}
