/* meterbench read: the vision readers on image files (CONTRACTS.md). One JSON object per input
 * file, in input order; a file that cannot be decoded gets an error line and the others still
 * run (exit 1). */
#include "cli.h"
#include "commands.h"

#include "core/json.h"
#include "vision/vision.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char MTB_CMD_READ_USAGE[] =
	"usage: meterbench read digit  [--models DIR] FILE...   one roller-digit crop per file\n"
	"       meterbench read needle [--models DIR] FILE...   one pointer sub-dial crop per file\n"
	"       meterbench read dial --meter TYPE [--models DIR] [--combine] FILE...\n"
	"                                                       a whole register (docs/vision-register.md)\n"
	"       meterbench read meniscus --vessel TYPE [--expected-div D] FILE...\n"
	"                                                       a measuring can's neck scale\n"
	"\n"
	"Prints one JSON object per file, in input order:\n"
	"  {\"file\":\"a.jpg\",\"value\":2.9,\"confidence\":0.97}\n"
	"value is the position on the circle [0, 10) to a tenth: for a digit, 2.9 = the roller\n"
	"shows 2 on its way to 3; for a pointer, divisions clockwise from 0. When the reader\n"
	"refuses to guess: {\"file\":\"a.jpg\",\"value\":null,\"confidence\":0.31,\"reason\":\"...\"}.\n"
	"A file that is not a decodable image: {\"file\":\"x.jpg\",\"error\":\"cannot decode image\",\n"
	"\"detail\":\"...\"}; the other files are still read and the exit status is 1.\n"
	"--models: folder with digit.onnx / needle.onnx (default $MTB_MODEL_DIR, then the source\n"
	"tree's vision/models/).\n";

static int read_files(const char *kind, int argc, char **argv)
{
	char cmd[32];
	snprintf(cmd, sizeof cmd, "read %s", kind);
	struct mtb_cli_opt opts[] = { { "models", true, 0 }, { 0 } };
	const char **files = malloc((size_t)argc * sizeof *files);
	int n_files, rc;
	if (!files)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: out of memory", cmd);
	if ((rc = mtb_cli_parse(cmd, argc, argv, opts, files, argc, &n_files)) != 0 || n_files == 0) {
		free(files);
		return rc ? rc : mtb_cli_error(MTB_EXIT_USAGE, "%s: no image file given", cmd);
	}

	struct mtb_vision *v;
	struct mtb_errbuf eb = { { 0 } };
	if ((rc = mtb_vision_create(&v, mtb_cli_get(opts, "models"), &eb)) != MTB_OK) {
		free(files);
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s", cmd, eb.msg);
	}
	bool digit = strcmp(kind, "digit") == 0;
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
		struct mtb_reading r;
		rc = digit ? mtb_vision_read_digit(v, img, &r) : mtb_vision_read_needle(v, img, &r);
		mtb_image_destroy(img);
		if (rc != MTB_OK) {
			/* The model is missing or OpenCV failed: no file will fare better. */
			fputs(",\"error\":", stdout);
			mtb_json_string(stdout, r.reason[0] ? r.reason : mtb_strerror(rc));
			fputs("}\n", stdout);
			fflush(stdout);
			mtb_vision_destroy(v);
			rc = mtb_cli_error(MTB_EXIT_FAIL, "%s: %s: %s", cmd, files[i],
					   r.reason[0] ? r.reason : mtb_strerror(rc));
			free(files);
			return rc;
		}
		fputs(",\"value\":", stdout);
		if (r.refused)
			fputs("null", stdout);
		else
			mtb_json_fixed(stdout, lround(r.value * 10.0) % 100, 1);
		fputs(",\"confidence\":", stdout);
		mtb_json_fixed(stdout, lround(r.confidence * 100.0), 2);
		if (r.refused) {
			fputs(",\"reason\":", stdout);
			mtb_json_string(stdout, r.reason);
		}
		fputs("}\n", stdout);
	}
	mtb_vision_destroy(v);
	free(files);
	return status;
}

int mtb_cmd_read(int argc, char **argv)
{
	if (argc < 2)
		return mtb_cli_error(MTB_EXIT_USAGE, "read: missing kind (digit, needle, dial, meniscus)");
	const char *kind = argv[1];
	if (strcmp(kind, "digit") == 0 || strcmp(kind, "needle") == 0)
		return read_files(kind, argc - 1, argv + 1);
	if (strcmp(kind, "dial") == 0)
		return mtb_cmd_read_dial(argc - 1, argv + 1);
	if (strcmp(kind, "meniscus") == 0)
		return mtb_cmd_read_meniscus(argc - 1, argv + 1);
	return mtb_cli_error(MTB_EXIT_USAGE, "read: unknown kind '%s' (digit, needle, dial, meniscus)", kind);
}
