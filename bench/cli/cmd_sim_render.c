/* meterbench sim render: rendered dial faces and labelled training crops (sim/dial_render.h).
 *
 * File names carry the label before the first '_', as in the real sets of ../shared/data:
 *   digit, needle: "X.Y_..." -- the roller shows X rolled Y tenths towards X+1, or the pointer
 *                  stands at X.Y divisions; the exact drawn position follows as "_pX.XXX".
 *   dial:          "LITRES_..." -- the indicated volume in litres with six decimals (exact uL).
 * Every file is a function of (--seed, its index, the options): re-running writes the same set. */
#include "cli.h"
#include "commands.h"

#include "sim/dial_render.h"
#include "sim/image_png.h"
#include "vision/layout.h"
#include "vision/vision.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char MTB_CMD_SIM_RENDER_USAGE[] =
	"usage: meterbench sim render --kind digit|needle|dial --out DIR [--count N] [--seed S]\n"
	"                             [--style classic|cream|blue|grey|random] [--layout NAME|FILE]\n"
	"                             [--nuisance 0..1] [--size WxH] [--volume-l V] [--format jpg|png]\n"
	"       meterbench sim render --kind neck --vessel TYPE --out DIR [--count N] [--seed S]\n"
	"                             [--nuisance 0..1] [--level-div D | --level-spread D]\n"
	"                             [--fault none|tilt|parallax|glare|foam|mixed] [--size WxH] [--format png|jpg]\n";

static const char *const CMD = "sim render";

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *r) { return r->s = mix64(r->s); }
static double uni(struct rng *r) { return (double)(next(r) >> 11) * (1.0 / 9007199254740992.0); }

/* An indicated volume: half uniform over the register's range, half next to a roll-over (an
 * element has just turned or is about to, often with several digits turning at once, as at
 * 9999.99 -> 10000.00). */
static int64_t sample_volume(struct rng *r, const struct mtb_layout *l)
{
	int64_t range = l->range_ul;
	if (uni(r) < 0.5)
		return (int64_t)(next(r) % (uint64_t)range);
	int n = mtb_layout_elements(l);
	int k = (int)(next(r) % (uint64_t)n);
	int64_t wk = mtb_layout_weight_ul(l, k);
	int64_t v0 = (int64_t)(next(r) % (uint64_t)(range / wk)) * wk;
	if (uni(r) < 0.5) {   /* make the digits above turn too: round to a coarser element */
		int j = (int)(next(r) % (uint64_t)(k + 1));
		int64_t wj = mtb_layout_weight_ul(l, j);
		v0 = v0 / wj * wj;
	}
	int64_t wb = k + 1 < n ? mtb_layout_weight_ul(l, k + 1) : wk;
	int64_t span = 2 * wb;   /* within one division of the element below */
	int64_t d = (int64_t)(next(r) % (uint64_t)span) - wb;
	return ((v0 + d) % range + range) % range;
}

static int mkdir_p(const char *dir)
{
	char buf[1024];
	if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
		return -1;
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, 0777) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	}
	if (mkdir(buf, 0777) != 0 && errno != EEXIST)
		return -1;
	struct stat st;
	return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

static int write_image(const struct mtb_image *img, const char *path, bool jpg, struct mtb_errbuf *eb)
{
	if (!jpg)
		return mtb_image_write_png(img, path, eb);
	unsigned char *buf;
	size_t len;
	int rc = mtb_image_encode_jpeg(img, 92, &buf, &len, eb);
	if (rc != MTB_OK)
		return rc;
	FILE *f = fopen(path, "wb");
	if (!f) {
		free(buf);
		return mtb_errbuf_set(eb, MTB_ERR_IO, "%s: %s", path, strerror(errno));
	}
	size_t wr = fwrite(buf, 1, len, f);
	free(buf);
	if (fclose(f) != 0 || wr != len)
		return mtb_errbuf_set(eb, MTB_ERR_IO, "%s: write failed", path);
	return MTB_OK;
}

int mtb_cmd_sim_render(int argc, char **argv)
{
	struct mtb_cli_opt opts[] = {
		{ "kind", true, 0 },   { "out", true, 0 },	{ "count", true, 0 },	 { "seed", true, 0 },
		{ "style", true, 0 },  { "layout", true, 0 },	{ "nuisance", true, 0 }, { "size", true, 0 },
		{ "volume-l", true, 0 }, { "format", true, 0 }, { 0 },
	};
	/* necks of measuring cans and cylinders have their own options (cmd_sim_render_neck.c) */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--kind=neck") == 0 || (strcmp(argv[i], "--kind") == 0 && i + 1 < argc && strcmp(argv[i + 1], "neck") == 0))
			return mtb_cmd_sim_render_neck(argc, argv);
	const char *pos[1];
	int n_pos, rc;
	if ((rc = mtb_cli_parse(CMD, argc, argv, opts, pos, 0, &n_pos)) != 0)
		return rc;
	const char *kind = mtb_cli_get(opts, "kind"), *out = mtb_cli_get(opts, "out");
	if (!kind)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: missing --kind (digit, needle, dial or neck)", CMD);
	if (!out)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: missing --out DIR", CMD);
	int k = strcmp(kind, "digit") == 0 ? 0 : strcmp(kind, "needle") == 0 ? 1 : strcmp(kind, "dial") == 0 ? 2 : -1;
	if (k < 0)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --kind: must be digit, needle, dial or neck, got '%s'", CMD, kind);

	double count_d = 100, seed_d = 1, nuisance = 1.0;
	const char *t;
	if ((t = mtb_cli_get(opts, "count")) && (rc = mtb_cli_double(CMD, "count", t, &count_d)) != 0)
		return rc;
	if (count_d < 1 || count_d > 10000000 || count_d != floor(count_d))
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --count: must be a whole number within 1-10000000", CMD);
	if ((t = mtb_cli_get(opts, "seed")) && (rc = mtb_cli_double(CMD, "seed", t, &seed_d)) != 0)
		return rc;
	if (seed_d < 0 || seed_d > 9007199254740992.0 || seed_d != floor(seed_d))
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --seed: must be a whole number >= 0", CMD);
	if ((t = mtb_cli_get(opts, "nuisance")) && (rc = mtb_cli_double(CMD, "nuisance", t, &nuisance)) != 0)
		return rc;
	if (!(nuisance >= 0 && nuisance <= 1))
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --nuisance: must be within 0-1", CMD);
	int style = MTB_DIAL_STYLE_RANDOM;
	if ((t = mtb_cli_get(opts, "style")) && mtb_dial_style_parse(t, &style) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --style: unknown style '%s' (classic, cream, blue, grey, random)",
				     CMD, t);
	int w = 0, h = 0;
	if ((t = mtb_cli_get(opts, "size"))) {
		char tail;
		if (sscanf(t, "%dx%d%c", &w, &h, &tail) != 2 || w < 8 || h < 8 || w > 4096 || h > 4096)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --size: must be WxH within 8-4096, got '%s'", CMD, t);
	}
	bool jpg = true;
	if ((t = mtb_cli_get(opts, "format"))) {
		if (strcmp(t, "png") == 0)
			jpg = false;
		else if (strcmp(t, "jpg") != 0)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --format: must be jpg or png, got '%s'", CMD, t);
	}
	int64_t fixed_ul = -1;
	if ((t = mtb_cli_get(opts, "volume-l"))) {
		if (k != 2)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --volume-l: only with --kind dial", CMD);
		if ((rc = mtb_cli_decimal(CMD, "volume-l", t, 6, &fixed_ul)) != 0)
			return rc;
		if (fixed_ul < 0)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --volume-l: must be >= 0", CMD);
	}

	struct mtb_layout layout;
	struct mtb_errbuf eb = { { 0 } };
	const char *lname = mtb_cli_get(opts, "layout");
	if ((rc = mtb_layout_load(lname ? lname : "roller8-pointer4", &layout, &eb)) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --layout: %s", CMD, eb.msg);
	if (k == 1 && layout.n_pointers == 0)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --layout: '%s' has no pointers", CMD, layout.name);
	if (fixed_ul >= layout.range_ul)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --volume-l: beyond the register's range of layout '%s'", CMD,
				     layout.name);
	if (mkdir_p(out) != 0)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: --out: cannot create directory '%s': %s", CMD, out, strerror(errno));

	long count = (long)count_d;
	uint64_t seed = (uint64_t)seed_d;
	for (long i = 0; i < count; i++) {
		struct rng r = { mix64(seed * 0x100000001b3ull + (uint64_t)i) };
		struct mtb_dial_render_opts o = {
			.width_px = w, .height_px = h, .style = style, .seed = next(&r), .nuisance = nuisance * uni(&r),
		};
		struct mtb_image *img = NULL;
		char path[1200], label[40];
		const char *ext = jpg ? "jpg" : "png";
		if (k == 2) {
			int64_t v = fixed_ul >= 0 ? fixed_ul : sample_volume(&r, &layout);
			struct mtb_dial_truth truth;
			rc = mtb_dial_render(&layout, v, &o, &img, &truth, &eb);
			snprintf(label, sizeof label, "%lld.%06lld", (long long)(v / 1000000), (long long)(v % 1000000));
			if (rc == MTB_OK)
				snprintf(path, sizeof path, "%s/%s_%06ld_%s_%s.%s", out, label, i, layout.name,
					 mtb_dial_style_name(truth.style), ext);
		} else {
			int first = k == 0 ? 0 : layout.n_rollers;
			int n = k == 0 ? layout.n_rollers : layout.n_pointers;
			int e = first + (int)(next(&r) % (uint64_t)n);
			/* On the tenths the labels name, with up to 0.03 of play either side. */
			int tenth = (int)(next(&r) % 100);
			double p = fmod(tenth / 10.0 + (uni(&r) - 0.5) * 0.06 + 10.0, 10.0);
			rc = mtb_dial_render_element(&layout, e, p, &o, &img, &eb);
			snprintf(label, sizeof label, "%d.%d", tenth / 10, tenth % 10);
			if (rc == MTB_OK)
				snprintf(path, sizeof path, "%s/%s_%06ld_%s_e%d_p%.3f.%s", out, label, i, layout.name, e, p, ext);
		}
		if (rc == MTB_OK)
			rc = write_image(img, path, jpg, &eb);
		mtb_image_destroy(img);
		if (rc != MTB_OK)
			return mtb_cli_error(rc == MTB_ERR_IO ? MTB_EXIT_FAIL : MTB_EXIT_FAIL, "%s: %s", CMD, eb.msg);
	}
	printf("{\"kind\":\"%s\",\"count\":%ld,\"layout\":\"%s\",\"out\":\"%s\"}\n", kind, count, layout.name, out);
	return MTB_EXIT_OK;
}
