/* meterbench sim render --kind neck: rendered necks of a vessel type with the meniscus at a known
 * level (sim/neck_render.h), for the meniscus reader's tests and its evaluation.
 *
 * File names carry the truth: "LEVEL_INDEX_VESSEL[_FAULT].png", LEVEL the meniscus bottom in
 * divisions from line 0 with three decimals; a manifest.jsonl beside them has one object per
 * image (file, level_div, volume_l, liquid, tilt_deg, parallax_deg, parallax_err_div, fault).
 * Every file is a function of (--seed, its index, the options). */
#include "cli.h"
#include "commands.h"

#include "calibration/vessel.h"
#include "core/json.h"
#include "sim/image_png.h"
#include "sim/neck_render.h"
#include "vision/vision.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const CMD = "sim render";

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double uni(uint64_t *s)
{
	*s = mix64(*s);
	return (double)(*s >> 11) * (1.0 / 9007199254740992.0);
}

static const char *const FAULTS[] = { "none", "tilt", "parallax", "glare", "foam", "mixed", NULL };

int mtb_cmd_sim_render_neck(int argc, char **argv)
{
	struct mtb_cli_opt opts[] = {
		{ "kind", true, 0 },     { "out", true, 0 },	     { "count", true, 0 }, { "seed", true, 0 },
		{ "vessel", true, 0 },   { "nuisance", true, 0 },   { "level-div", true, 0 },
		{ "level-spread", true, 0 }, { "fault", true, 0 }, { "size", true, 0 },
		{ "format", true, 0 },   { 0 },
	};
	const char *pos[1];
	int n_pos, rc;
	if ((rc = mtb_cli_parse(CMD, argc, argv, opts, pos, 0, &n_pos)) != 0)
		return rc;
	const char *out = mtb_cli_get(opts, "out"), *t;
	if (!out)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: missing --out DIR", CMD);
	const char *vname = mtb_cli_get(opts, "vessel");
	if (!vname)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --kind neck needs --vessel TYPE", CMD);
	struct mtb_vessel v;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_vessel_load(vname, &v, &eb) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --vessel: %s", CMD, eb.msg);
	double count_d = 100, seed_d = 1, nuisance = 1, level = -1, spread = -1;
	if ((t = mtb_cli_get(opts, "count")) && (rc = mtb_cli_double(CMD, "count", t, &count_d)) != 0)
		return rc;
	if (count_d < 1 || count_d > 1000000 || count_d != floor(count_d))
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --count: must be a whole number within 1-1000000", CMD);
	if ((t = mtb_cli_get(opts, "seed")) && (rc = mtb_cli_double(CMD, "seed", t, &seed_d)) != 0)
		return rc;
	if (seed_d < 0 || seed_d > 9007199254740992.0 || seed_d != floor(seed_d))
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --seed: must be a whole number >= 0", CMD);
	if ((t = mtb_cli_get(opts, "nuisance")) && (rc = mtb_cli_double(CMD, "nuisance", t, &nuisance)) != 0)
		return rc;
	if (!(nuisance >= 0 && nuisance <= 1))
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --nuisance: must be within 0-1", CMD);
	if ((t = mtb_cli_get(opts, "level-div"))) {
		if ((rc = mtb_cli_double(CMD, "level-div", t, &level)) != 0)
			return rc;
		if (!(level >= 0 && level <= v.scale.divisions))
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --level-div: must be on the scale, 0-%d", CMD, v.scale.divisions);
	}
	if ((t = mtb_cli_get(opts, "level-spread"))) {
		if ((rc = mtb_cli_double(CMD, "level-spread", t, &spread)) != 0)
			return rc;
		if (!(spread >= 0))
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --level-spread: must be >= 0", CMD);
	}
	int fault = 0;
	if ((t = mtb_cli_get(opts, "fault"))) {
		for (fault = 0; FAULTS[fault] && strcmp(FAULTS[fault], t) != 0; fault++)
			;
		if (!FAULTS[fault])
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --fault: must be none, tilt, parallax, glare, foam or mixed, got '%s'", CMD, t);
	}
	int w = 0, h = 0;
	if ((t = mtb_cli_get(opts, "size"))) {
		char tail;
		if (sscanf(t, "%dx%d%c", &w, &h, &tail) != 2 || w < 64 || h < 128 || w > 4096 || h > 4096)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --size: must be WxH within 64x128-4096x4096, got '%s'", CMD, t);
	}
	bool jpg = false;
	if ((t = mtb_cli_get(opts, "format"))) {
		if (strcmp(t, "jpg") == 0)
			jpg = true;
		else if (strcmp(t, "png") != 0)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --format: must be jpg or png, got '%s'", CMD, t);
	}
	if (mkdir(out, 0777) != 0 && errno != EEXIST)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: --out: cannot create directory '%s': %s", CMD, out, strerror(errno));
	char mpath[1200];
	snprintf(mpath, sizeof mpath, "%s/manifest.jsonl", out);
	FILE *mf = fopen(mpath, "w");
	if (!mf)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s: %s", CMD, mpath, strerror(errno));

	long count = (long)count_d;
	for (long i = 0; i < count; i++) {
		uint64_t s = mix64((uint64_t)seed_d * 0x100000001b3ull + (uint64_t)i + 0x5eedull);
		double lv = level;
		if (lv < 0) {
			/* the whole scale, or a band around the nominal line */
			if (spread >= 0)
				lv = v.scale.nominal_div + (uni(&s) * 2 - 1) * spread;
			else
				lv = uni(&s) * v.scale.divisions;
			lv = fmin(v.scale.divisions, fmax(0, lv));
		}
		struct mtb_neck_render_opts o = { 0 };
		o.width_px = w;
		o.height_px = h;
		o.seed = mix64(s);
		o.nuisance = nuisance * uni(&s);
		o.liquid = uni(&s) < 0.5 ? MTB_LIQUID_WATER : MTB_LIQUID_TINTED;
		int f = fault == 5 ? 1 + (int)(uni(&s) * 4) : fault;
		double sign = uni(&s) < 0.5 ? -1 : 1;
		if (f == 1)
			o.tilt_deg = sign * (1.5 + 3 * uni(&s));
		else if (f == 2)
			o.parallax_deg = sign * (4 + 6 * uni(&s));
		else if (f == 3)
			o.glare = 0.5 + 0.5 * uni(&s);
		else if (f == 4)
			o.foam = 0.5 + 0.5 * uni(&s);
		struct mtb_image *img = NULL;
		struct mtb_neck_truth tr;
		rc = mtb_neck_render(&v, lv, &o, &img, &tr, &eb);
		char path[1200], name[256];
		snprintf(name, sizeof name, "%.3f_%06ld_%s%s%s.%s", lv, i, v.name, f ? "_" : "", f ? FAULTS[f] : "",
			 jpg ? "jpg" : "png");
		snprintf(path, sizeof path, "%s/%s", out, name);
		if (rc == MTB_OK) {
			if (jpg) {
				unsigned char *buf;
				size_t len;
				rc = mtb_image_encode_jpeg(img, 92, &buf, &len, &eb);
				if (rc == MTB_OK) {
					FILE *f2 = fopen(path, "wb");
					if (!f2 || fwrite(buf, 1, len, f2) != len)
						rc = mtb_errbuf_set(&eb, MTB_ERR_IO, "%s: write failed", path);
					if (f2)
						fclose(f2);
					free(buf);
				}
			} else {
				rc = mtb_image_write_png(img, path, &eb);
			}
		}
		mtb_image_destroy(img);
		if (rc != MTB_OK) {
			fclose(mf);
			return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s", CMD, eb.msg);
		}
		fprintf(mf, "{\"file\":");
		mtb_json_string(mf, name);
		fprintf(mf, ",\"level_div\":");
		mtb_json_double(mf, lv);
		fprintf(mf, ",\"volume_l\":");
		mtb_json_double(mf, ((double)v.scale.zero_ul + lv * (double)v.scale.division_ul) / 1e6);
		fprintf(mf, ",\"liquid\":%d,\"tilt_deg\":", tr.liquid);
		mtb_json_double(mf, tr.tilt_deg);
		fprintf(mf, ",\"parallax_deg\":");
		mtb_json_double(mf, tr.parallax_deg);
		fprintf(mf, ",\"parallax_err_div\":");
		mtb_json_double(mf, tr.parallax_err_div);
		fprintf(mf, ",\"fault\":\"%s\"}\n", FAULTS[f]);
	}
	if (fclose(mf) != 0)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s: write failed", CMD, mpath);
	printf("{\"kind\":\"neck\",\"count\":%ld,\"vessel\":\"%s\",\"out\":", count, v.name);
	mtb_json_string(stdout, out);
	printf("}\n");
	return MTB_EXIT_OK;
}
