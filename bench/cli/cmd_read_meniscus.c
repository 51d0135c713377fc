/* meterbench read meniscus --vessel TYPE FILE...: the meniscus reader on image files
 * (CONTRACTS.md): one JSON object per file, in input order,
 *   {"file":"n.png","level_div":12.3,"volume_l":20.023,"confidence":0.98}
 * or, when the reader refuses, "level_div":null,"volume_l":null with a "reason"; a file that
 * cannot be decoded gets {"file":..,"error":"cannot decode image",..}, the others still run and
 * the exit status is 1. */
#include "cli.h"
#include "commands.h"

#include "calibration/vessel.h"
#include "core/json.h"
#include "vision/meniscus.h"
#include "vision/vision.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char MTB_CMD_READ_MENISCUS_USAGE[] =
	"usage: meterbench read meniscus --vessel TYPE [--expected-div D] FILE...\n"
	"Reads the level of the meniscus against the neck scale of vessel TYPE (a vessel YAML or its\n"
	"name in configs/vessels/). --expected-div: where the level should be (default: the nominal\n"
	"line); it numbers the lines when neither end of the scale is in view.\n";

static const char *const CMD = "read meniscus";

/* What the reader needs of a vessel type. */
static void scale_of(const struct mtb_vessel *v, double expected, struct mtb_meniscus_scale *s)
{
	memset(s, 0, sizeof *s);
	s->divisions = v->scale.divisions;
	s->long_every = v->scale.long_every;
	s->expected_div = expected;
	s->read_top = v->meniscus == MTB_MENISCUS_TOP;
	s->neck_radius_div = v->scale.neck_diameter_mm / 2 / v->scale.division_mm;
}

int mtb_cmd_read_meniscus(int argc, char **argv)
{
	struct mtb_cli_opt opts[] = { { "vessel", true, 0 }, { "expected-div", true, 0 }, { 0 } };
	const char **files = malloc((size_t)(argc + 1) * sizeof *files);
	int n_files, rc;
	if (!files)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: out of memory", CMD);
	if ((rc = mtb_cli_parse(CMD, argc, argv, opts, files, argc, &n_files)) != 0 || n_files == 0) {
		free(files);
		return rc ? rc : mtb_cli_error(MTB_EXIT_USAGE, "%s: no image file given", CMD);
	}
	const char *vname = mtb_cli_get(opts, "vessel"), *t;
	if (!vname) {
		free(files);
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: missing --vessel TYPE", CMD);
	}
	struct mtb_vessel v;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_vessel_load(vname, &v, &eb) != MTB_OK) {
		free(files);
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --vessel: %s", CMD, eb.msg);
	}
	double expected = v.scale.nominal_div;
	if ((t = mtb_cli_get(opts, "expected-div"))) {
		if ((rc = mtb_cli_double(CMD, "expected-div", t, &expected)) != 0) {
			free(files);
			return rc;
		}
		if (!(expected >= 0 && expected <= v.scale.divisions)) {
			free(files);
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --expected-div: must be on the scale, 0-%d", CMD, v.scale.divisions);
		}
	}
	struct mtb_meniscus_scale sc;
	scale_of(&v, expected, &sc);
	int status = MTB_EXIT_OK;
	for (int i = 0; i < n_files; i++) {
		struct mtb_image *img = NULL;
		fputs("{\"file\":", stdout);
		mtb_json_string(stdout, files[i]);
		eb.msg[0] = '\0';
		if (mtb_image_load(files[i], &img, &eb) != MTB_OK) {
			fputs(",\"error\":\"cannot decode image\",\"detail\":", stdout);
			mtb_json_string(stdout, eb.msg);
			fputs("}\n", stdout);
			status = MTB_EXIT_FAIL;
			continue;
		}
		struct mtb_meniscus_reading r;
		rc = mtb_meniscus_read(img, &sc, &r, &eb);
		mtb_image_destroy(img);
		if (rc != MTB_OK) {
			fputs(",\"error\":", stdout);
			mtb_json_string(stdout, eb.msg);
			fputs("}\n", stdout);
			status = MTB_EXIT_FAIL;
			continue;
		}
		if (r.refused) {
			fputs(",\"level_div\":null,\"volume_l\":null,\"confidence\":", stdout);
			mtb_json_double(stdout, round(r.confidence * 100) / 100);
			fputs(",\"reason\":", stdout);
			mtb_json_string(stdout, r.reason);
		} else {
			/* to a hundredth of a division; the volume to the uL from it */
			double lv = round(r.level_div * 100) / 100;
			fputs(",\"level_div\":", stdout);
			mtb_json_double(stdout, lv);
			fputs(",\"volume_l\":", stdout);
			mtb_json_fixed(stdout, mtb_vessel_scale_volume_ul(&v, lv), 6);
			fputs(",\"confidence\":", stdout);
			mtb_json_double(stdout, round(r.confidence * 100) / 100);
		}
		fputs("}\n", stdout);
	}
	fflush(stdout);
	free(files);
	return status;
}
