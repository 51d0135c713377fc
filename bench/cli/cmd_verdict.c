/* meterbench verdict: the results engine on one test point (CONTRACTS.md). */
#include "cli.h"
#include "commands.h"

#include "bench/results.h"
#include "calibration/meter_type.h"
#include "core/config.h"
#include "core/json.h"

#include <stdio.h>
#include <string.h>

const char MTB_CMD_VERDICT_USAGE[] =
	"usage: meterbench verdict --standard r49-2013|r49-2024\n"
	"                          (--class 1|2 --q3-m3h Q3 --ratio R | --meter TYPE)\n"
	"                          --flow-lph Q --indicated-l VI --actual-l VA\n"
	"                          [--water-temp-c 20] [--mode verification|in-service]\n"
	"                          [--u-exp-pct U] [--q2-q1 1.6] [--q4-q3 1.25]\n"
	"                          [--jurisdiction NAME|FILE]\n"
	"\n"
	"Judges one test point and prints one JSON object:\n"
	"  {\"zone\":\"lower\",\"q1_lph\":15.625,\"q2_lph\":25.0,\"q4_lph\":3125.0,\n"
	"   \"error_pct\":3.0,\"mpe_pct\":5.0,\"verdict\":\"pass\", ...}\n"
	"zone: lower (Q1 <= Q < Q2), upper (Q2 <= Q <= Q4), or null outside Q1...Q4.\n"
	"verdict: pass, fail, invalid (U above MPE/3) or out-of-range.\n"
	"The error E = (VI - VA)/VA is judged in integers (uL, ppm); an error exactly at the MPE\n"
	"passes. error_pct is shown rounded to the nearest ppm (0.0001 %).\n"
	"--meter takes a meter type (configs/types/NAME.yaml or a path) instead of --class,\n"
	"--q3-m3h and --ratio; with it the water temperature is checked against the type's MAT.\n"
	"--jurisdiction names the in-service limits (configs/jurisdictions/); default: 2 x MPE.\n";

static const char *const CMD = "verdict";

int mtb_cmd_verdict(int argc, char **argv)
{
	struct mtb_cli_opt opts[] = {
		{ "standard", true, 0 }, { "class", true, 0 }, { "q3-m3h", true, 0 },
		{ "ratio", true, 0 }, { "q2-q1", true, 0 }, { "q4-q3", true, 0 },
		{ "meter", true, 0 }, { "flow-lph", true, 0 }, { "indicated-l", true, 0 },
		{ "actual-l", true, 0 }, { "water-temp-c", true, 0 }, { "mode", true, 0 },
		{ "u-exp-pct", true, 0 }, { "jurisdiction", true, 0 }, { 0 },
	};
	const char *pos[1];
	int n_pos, rc;
	if ((rc = mtb_cli_parse(CMD, argc, argv, opts, pos, 0, &n_pos)) != 0)
		return rc;

	static const char *const required[] = { "standard", "flow-lph", "indicated-l", "actual-l" };
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!mtb_cli_get(opts, required[i]))
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: missing --%s", CMD, required[i]);

	struct mtb_point_in in = { .u_exp_ppm = -1, .water_temp_mdegc = 20000 };
	const char *std = mtb_cli_get(opts, "standard");
	in.rules = mtb_rule_set_find(std);
	if (!in.rules)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --standard: unknown rule set '%s' (r49-2013, r49-2024)", CMD, std);

	const char *meter = mtb_cli_get(opts, "meter");
	int32_t max_temp_mdegc = 0;
	if (meter) {
		static const char *const exclusive[] = { "class", "q3-m3h", "ratio", "q2-q1", "q4-q3" };
		for (size_t i = 0; i < sizeof exclusive / sizeof exclusive[0]; i++)
			if (mtb_cli_get(opts, exclusive[i]))
				return mtb_cli_error(MTB_EXIT_USAGE, "%s: --%s cannot be combined with --meter", CMD, exclusive[i]);
		struct mtb_meter_type t;
		struct mtb_errbuf eb = { { 0 } };
		if (mtb_meter_type_load(meter, &t, &eb) != MTB_OK)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --meter: %s", CMD, eb.msg);
		in.accuracy_class = t.accuracy_class;
		in.flow_range = t.flow;
		max_temp_mdegc = t.max_temp_mdegc;
	} else {
		static const char *const needed[] = { "class", "q3-m3h", "ratio" };
		for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
			if (!mtb_cli_get(opts, needed[i]))
				return mtb_cli_error(MTB_EXIT_USAGE, "%s: missing --%s (or give --meter TYPE)", CMD, needed[i]);
		const char *cls = mtb_cli_get(opts, "class");
		if (strcmp(cls, "1") != 0 && strcmp(cls, "2") != 0)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --class: must be 1 or 2, got '%s'", CMD, cls);
		in.accuracy_class = cls[0] - '0';
		double q3, ratio, q2q1 = 1.6, q4q3 = 1.25;
		if ((rc = mtb_cli_double(CMD, "q3-m3h", mtb_cli_get(opts, "q3-m3h"), &q3)) ||
		    (rc = mtb_cli_double(CMD, "ratio", mtb_cli_get(opts, "ratio"), &ratio)))
			return rc;
		if (mtb_cli_get(opts, "q2-q1") && (rc = mtb_cli_double(CMD, "q2-q1", mtb_cli_get(opts, "q2-q1"), &q2q1)))
			return rc;
		if (mtb_cli_get(opts, "q4-q3") && (rc = mtb_cli_double(CMD, "q4-q3", mtb_cli_get(opts, "q4-q3"), &q4q3)))
			return rc;
		if (!(q3 > 0))
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --q3-m3h: must be > 0, got %g", CMD, q3);
		if (!(ratio > 1))
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --ratio: must be > 1, got %g", CMD, ratio);
		if (mtb_flow_range_make(q3, ratio, q2q1, q4q3, &in.flow_range) != MTB_OK)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --q2-q1/--q4-q3: need 1 <= Q2/Q1 < R and Q4/Q3 >= 1", CMD);
	}

	if ((rc = mtb_cli_double(CMD, "flow-lph", mtb_cli_get(opts, "flow-lph"), &in.flow_lph)))
		return rc;
	if (!(in.flow_lph >= 0))
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --flow-lph: must be >= 0, got %g", CMD, in.flow_lph);
	if ((rc = mtb_cli_decimal(CMD, "indicated-l", mtb_cli_get(opts, "indicated-l"), 6, &in.indicated_ul)) ||
	    (rc = mtb_cli_decimal(CMD, "actual-l", mtb_cli_get(opts, "actual-l"), 6, &in.actual_ul)))
		return rc;
	if (in.actual_ul <= 0)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --actual-l: must be > 0", CMD);
	if (in.indicated_ul < 0)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --indicated-l: must be >= 0", CMD);
	if (in.actual_ul > MTB_VOLUME_MAX_UL || in.indicated_ul > MTB_VOLUME_MAX_UL)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: volumes above 10^9 L are not accepted", CMD);

	const char *wt = mtb_cli_get(opts, "water-temp-c");
	if (wt) {
		int64_t mdegc;
		if ((rc = mtb_cli_decimal(CMD, "water-temp-c", wt, 3, &mdegc)))
			return rc;
		if (mdegc < 0 || mdegc > 200000)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --water-temp-c: must be within 0-200 C, got %s", CMD, wt);
		in.water_temp_mdegc = (int32_t)mdegc;
	}
	if (max_temp_mdegc > 0 && in.water_temp_mdegc > max_temp_mdegc)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --water-temp-c: %s C is above the type's maximum admissible temperature of %d C",
				     CMD, wt, max_temp_mdegc / 1000);

	const char *mode = mtb_cli_get(opts, "mode");
	if (mode && mtb_mode_parse(mode, &in.mode) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --mode: must be verification or in-service, got '%s'", CMD, mode);

	struct mtb_in_service juris;
	const char *jname = mtb_cli_get(opts, "jurisdiction");
	if (jname) {
		char path[1024];
		struct mtb_errbuf eb = { { 0 } };
		if (mtb_config_find("jurisdictions", jname, path, sizeof path, &eb) != MTB_OK ||
		    mtb_in_service_load(path, &juris, &eb) != MTB_OK)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --jurisdiction: %s", CMD, eb.msg);
		in.in_service = &juris;
	}

	const char *u = mtb_cli_get(opts, "u-exp-pct");
	if (u) {
		int64_t u_ppm;
		if ((rc = mtb_cli_decimal(CMD, "u-exp-pct", u, 4, &u_ppm)))
			return rc;
		if (u_ppm < 0 || u_ppm > 1000000)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --u-exp-pct: must be within 0-100, got %s", CMD, u);
		in.u_exp_ppm = (int32_t)u_ppm;
	}

	struct mtb_point_out out;
	if (mtb_point_judge(&in, &out) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: inputs rejected by the results engine", CMD);

	FILE *f = stdout;
	fputs("{\"zone\":", f);
	if (out.zone == MTB_ZONE_OUT_OF_RANGE)
		fputs("null", f);
	else
		mtb_json_string(f, mtb_zone_name(out.zone));
	fputs(",\"q1_lph\":", f);
	mtb_json_double(f, in.flow_range.q1_lph);
	fputs(",\"q2_lph\":", f);
	mtb_json_double(f, in.flow_range.q2_lph);
	fputs(",\"q4_lph\":", f);
	mtb_json_double(f, in.flow_range.q4_lph);
	fputs(",\"error_pct\":", f);
	mtb_json_fixed(f, out.error_ppm, 4);
	fputs(",\"mpe_pct\":", f);
	if (out.zone == MTB_ZONE_OUT_OF_RANGE)
		fputs("null", f);
	else
		mtb_json_fixed(f, out.mpe_ppm, 4);
	fputs(",\"verdict\":", f);
	mtb_json_string(f, mtb_verdict_name(out.verdict));
	fputs(",\"standard\":", f);
	mtb_json_string(f, in.rules->title);
	fputs(",\"mode\":", f);
	mtb_json_string(f, mtb_mode_name(in.mode));
	if (in.u_exp_ppm >= 0) {
		fputs(",\"u_exp_pct\":", f);
		mtb_json_fixed(f, in.u_exp_ppm, 4);
	}
	fputs("}\n", f);
	return ferror(f) ? MTB_EXIT_FAIL : MTB_EXIT_OK;
}
