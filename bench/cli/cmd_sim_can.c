/* meterbench sim can: the gravimetric verification of a simulated can with a known, injected
 * capacity error, end to end: the procedure (bench/can_procedure.h) drives the simulated fill
 * and drain valves and balance (sim/can_sim.h), the camera's neck images are rendered and read
 * by the meniscus reader (vision/meniscus.h), the volume and its U come from calibration. The
 * procedure knows nothing of the injected error; the output shows both. */
#include "cli.h"
#include "commands.h"

#include "bench/can_procedure.h"
#include "bench/can_report.h"
#include "core/json.h"
#include "core/sha256.h"
#include "core/yaml_load.h"
#include "sim/can_sim.h"
#include "sim/image_png.h"
#include "vision/meniscus.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *const CMD = "sim can";

struct port {
	struct mtb_sim_can *can;
	const struct mtb_sim_can_cfg *cfg;
	struct mtb_meniscus_scale scale;
	const char *out_dir;
	int frame;
	int io_errors;
};

static struct port *P(void *c) { return c; }

static int64_t p_now(void *c) { return mtb_sim_can_now_us(P(c)->can); }
static int p_wait(void *c, int64_t dt)
{
	mtb_sim_can_advance(P(c)->can, dt);
	return MTB_OK;
}
static int p_fill(void *c, bool open)
{
	mtb_sim_can_set_fill(P(c)->can, open);
	return MTB_OK;
}
static int p_drain(void *c, bool open)
{
	mtb_sim_can_set_drain(P(c)->can, open);
	return MTB_OK;
}
static int p_balance(void *c, struct mtb_balance_obs *out)
{
	mtb_sim_can_balance(P(c)->can, &out->mass_mg, &out->stable);
	mtb_sim_can_advance(P(c)->can, 100000);   /* a balance answers in about 0.1 s */
	return MTB_OK;
}
static int p_conditions(void *c, struct mtb_can_conditions *out)
{
	const struct mtb_sim_can_cfg *g = P(c)->cfg;
	out->water_temp_c = g->water_c;
	out->air_temp_c = g->air_c;
	out->p_hpa = g->p_hpa;
	out->rh_pct = g->rh_pct;
	return MTB_OK;
}
static int p_meniscus(void *c, struct mtb_meniscus_obs *out)
{
	struct port *p = P(c);
	memset(out, 0, sizeof *out);
	struct mtb_image *img = NULL;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_sim_can_render(p->can, &img, &eb) != MTB_OK) {
		snprintf(out->reason, sizeof out->reason, "%s", eb.msg);
		return MTB_OK;
	}
	struct mtb_meniscus_reading r;
	int rc = mtb_meniscus_read(img, &p->scale, &r, &eb);
	if (p->out_dir) {
		char path[1200];
		snprintf(path, sizeof path, "%s/neck-%03d.png", p->out_dir, ++p->frame);
		char *buf = NULL;
		size_t len = 0;
		if (mtb_image_write_png(img, path, &eb) != MTB_OK || mtb_file_read(path, 64u << 20, &buf, &len, &eb) != MTB_OK ||
		    mtb_sha256_hex(buf, len, out->image_sha256) != MTB_OK)
			p->io_errors++;
		free(buf);
	}
	mtb_image_destroy(img);
	if (rc != MTB_OK) {
		snprintf(out->reason, sizeof out->reason, "%s", eb.msg);
		return rc;
	}
	out->ok = !r.refused;
	out->level_div = r.level_div;
	out->confidence = r.confidence;
	snprintf(out->reason, sizeof out->reason, "%s", r.reason);
	return MTB_OK;
}
static int p_safe(void *c)
{
	mtb_sim_can_set_fill(P(c)->can, false);
	mtb_sim_can_set_drain(P(c)->can, false);
	return MTB_OK;
}

static const struct mtb_can_io_ops PORT_OPS = { p_now, p_wait, p_fill, p_drain, p_balance, p_conditions, p_meniscus, p_safe, NULL, NULL, NULL, NULL };

static void ml(FILE *f, const char *key, double ul)
{
	fprintf(f, ",\"%s\":", key);
	mtb_json_double(f, round(ul) / 1000.0);
}

int mtb_cmd_sim_can(int argc, char **argv)
{
	struct mtb_cli_opt opts[] = {
		{ "vessel", true, 0 }, { "error-ml", true, 0 }, { "runs", true, 0 }, { "seed", true, 0 },
		{ "nuisance", true, 0 }, { "water-c", true, 0 }, { "out", true, 0 }, { 0 },
	};
	const char *pos[1], *t;
	int n_pos, rc;
	if ((rc = mtb_cli_parse(CMD, argc, argv, opts, pos, 0, &n_pos)) != 0)
		return rc;
	const char *vname = mtb_cli_get(opts, "vessel");
	if (!vname)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: missing --vessel TYPE", CMD);
	struct mtb_vessel v;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_vessel_load(vname, &v, &eb) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --vessel: %s", CMD, eb.msg);
	struct mtb_sim_can_cfg cfg;
	mtb_sim_can_defaults(&cfg, &v);
	double err_ml = 0, runs = 3, seed = 1;
	if ((t = mtb_cli_get(opts, "error-ml")) && (rc = mtb_cli_double(CMD, "error-ml", t, &err_ml)) != 0)
		return rc;
	if (fabs(err_ml) * 1000 > 5 * (double)v.scale.division_ul)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --error-ml: keep within 5 divisions (%.3f mL) so the level stays on the scale",
				     CMD, 5 * (double)v.scale.division_ul / 1000);
	cfg.injected_error_ul = err_ml * 1000;
	if ((t = mtb_cli_get(opts, "runs")) && (rc = mtb_cli_double(CMD, "runs", t, &runs)) != 0)
		return rc;
	if (runs < 1 || runs > MTB_CAN_MAX_RUNS || runs != floor(runs))
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --runs: must be a whole number within 1-%d", CMD, MTB_CAN_MAX_RUNS);
	if ((t = mtb_cli_get(opts, "seed")) && (rc = mtb_cli_double(CMD, "seed", t, &seed)) != 0)
		return rc;
	if (seed < 0 || seed != floor(seed) || seed > 1e15)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --seed: must be a whole number >= 0", CMD);
	cfg.seed = (uint64_t)seed;
	if ((t = mtb_cli_get(opts, "nuisance")) && (rc = mtb_cli_double(CMD, "nuisance", t, &cfg.nuisance)) != 0)
		return rc;
	if (!(cfg.nuisance >= 0 && cfg.nuisance <= 1))
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --nuisance: must be within 0-1", CMD);
	if ((t = mtb_cli_get(opts, "water-c")) && (rc = mtb_cli_double(CMD, "water-c", t, &cfg.water_c)) != 0)
		return rc;
	if (!(cfg.water_c >= 5 && cfg.water_c <= 35))
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --water-c: must be within 5-35", CMD);
	const char *out_dir = mtb_cli_get(opts, "out");
	if (out_dir && mkdir(out_dir, 0777) != 0 && errno != EEXIST)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: --out: cannot create directory '%s': %s", CMD, out_dir, strerror(errno));

	struct port port = { 0 };
	port.cfg = &cfg;
	port.out_dir = out_dir;
	port.scale.divisions = v.scale.divisions;
	port.scale.long_every = v.scale.long_every;
	port.scale.expected_div = v.scale.nominal_div;
	port.scale.neck_radius_div = v.scale.neck_diameter_mm / 2 / v.scale.division_mm;
	port.scale.read_top = v.meniscus == MTB_MENISCUS_TOP;
	if ((rc = mtb_sim_can_create(&port.can, &cfg, &eb)) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s", CMD, eb.msg);
	struct mtb_can_io io = { &PORT_OPS, &port, NULL };

	/* What the lab knows of its instruments (docs/cans.md): the balance to one step, the
	 * thermometer 0.05 K, ambient 0.3 K, 0.5 hPa, 3 %RH, the weights 30 kg/m3, gamma 10 %, a
	 * meniscus reading 0.03 division (the reader's figures on rendered necks), drainage. */
	struct mtb_can_plan plan;
	mtb_can_plan_defaults(&plan);
	plan.runs = (int)runs;
	plan.fill_flow_lps = cfg.fill_ulps / 1e6;
	plan.u.balance_u_mg = (double)cfg.balance_step_mg;
	plan.u.water_temp_u_c = 0.05;
	plan.u.water_density_u_kgm3 = 0.002;
	plan.u.air_temp_u_c = 0.3;
	plan.u.p_u_hpa = 0.5;
	plan.u.rh_u_pct = 3;
	plan.u.air_formula_u_rel = 2.2e-5;
	plan.u.rho_weights_u_kgm3 = 30;
	plan.u.gamma_u_rel = 0.1;
	plan.u.reading_u_div = 0.03;
	plan.u.drain_u_ul = v.delivery == MTB_VESSEL_TO_DELIVER ? 0.02 * cfg.film_final_ul : 0;
	struct mtb_can_result res;
	rc = mtb_can_procedure_run(&v, &plan, &io, &res);
	bool closed = mtb_sim_can_valves_closed(port.can);
	mtb_sim_can_destroy(port.can);
	if (rc != MTB_OK)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s", CMD, mtb_strerror(rc));

	printf("{\"vessel\":");
	mtb_json_string(stdout, v.name);
	printf(",\"state\":\"%s\"", mtb_can_state_name(res.state));
	ml(stdout, "injected_error_ml", cfg.injected_error_ul);
	printf(",\"runs\":[");
	for (int i = 0; i < res.n_runs; i++) {
		printf(i ? ",{" : "{");
		printf("\"level_div\":");
		mtb_json_double(stdout, round(res.runs[i].level_div * 1000) / 1000);
		printf(",\"full_g\":");
		mtb_json_fixed(stdout, res.runs[i].full_mg, 3);
		printf(",\"empty_g\":");
		mtb_json_fixed(stdout, res.runs[i].empty_mg, 3);
		if (res.state == MTB_CAN_DONE) {
			printf(",\"v_ref_l\":");
			mtb_json_fixed(stdout, llround(res.series.run[i].v_ref_ul), 6);
			ml(stdout, "error_ml", res.series.run[i].error_ul);
		}
		printf("}");
	}
	printf("]");
	if (res.state == MTB_CAN_DONE) {
		ml(stdout, "error_ml", (double)res.series.error_ul);
		ml(stdout, "u_exp_ml", (double)res.series.u_exp_ul_int);
		ml(stdout, "s_ml", res.series.s_error_ul);
		ml(stdout, "mpe_ml", (double)mtb_vessel_mpe_ul(&v));
		printf(",\"verdict\":\"%s\"", mtb_vessel_verdict_name(res.series.verdict));
		printf(",\"injected_within_u\":%s",
		       fabs((double)res.series.error_ul - cfg.injected_error_ul) <= (double)res.series.u_exp_ul_int ? "true" : "false");
	} else {
		printf(",\"failed_in\":\"%s\",\"reason\":", mtb_can_state_name(res.failed_in));
		mtb_json_string(stdout, res.reason);
	}
	printf(",\"valves_closed\":%s,\"bench_time_s\":", closed ? "true" : "false");
	mtb_json_double(stdout, round(res.bench_time_us / 1e5) / 10);
	printf("}\n");
	if (out_dir) {
		/* results.json and the certificate beside the evidence images */
		char path[1200], serial[64], date[16];
		snprintf(serial, sizeof serial, "SIM-CAN-%llu", (unsigned long long)cfg.seed);
		time_t now = time(NULL);
		struct tm tmv;
		gmtime_r(&now, &tmv);
		strftime(date, sizeof date, "%Y-%m-%d", &tmv);
		struct mtb_can_report_info info = { serial, "meterbench simulated bench", "", date, out_dir };
		snprintf(path, sizeof path, "%s/results.json", out_dir);
		FILE *f = fopen(path, "w");
		if (!f || mtb_can_report_write_json(&v, &res, &info, f) != MTB_OK)
			port.io_errors++;
		if (f && fclose(f) != 0)
			port.io_errors++;
		snprintf(path, sizeof path, "%s/certificate.pdf", out_dir);
		if (mtb_can_report_write_pdf(&v, &res, &info, path, &eb) != MTB_OK)
			return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s", CMD, eb.msg);
	}
	if (port.io_errors)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: %d evidence images could not be written to %s", CMD, port.io_errors, out_dir);
	return res.state == MTB_CAN_DONE ? MTB_EXIT_OK : MTB_EXIT_FAIL;
}
