/* meterbench run with a can plan (kind: can): the gravimetric verification of a measuring can
 * or cylinder on a bench through the HAL -- fill and drain valves and transmitters over Modbus,
 * the balance on its serial line, the neck camera read by the meniscus reader -- with every
 * balance reply and neck frame committed to DIR/records.sqlite run by run (hash-chained audit),
 * then DIR/results.json and DIR/certificate.pdf. docs/cans.md. */
#include "cli.h"
#include "commands.h"

#include "bench/can_io_hal.h"
#include "bench/can_plan.h"
#include "bench/can_report.h"
#include "bench/live.h"
#include "bench/records.h"
#include "core/clock.h"
#include "vision/vision.h"
#include "core/file_out.h"
#include "core/json.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const CMD = "run";
static volatile sig_atomic_t interrupted;
static int abort_flag;   /* the operator's abort, read by the can procedure after every wait */

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
	__atomic_store_n(&abort_flag, 1, __ATOMIC_SEQ_CST);
}

/* Observations since the last commit, and where they go. */
struct can_run_ctx {
	struct mtb_records *rec;
	const char *sid;
	struct mtb_can_balance_record *bal;
	int n_bal, cap_bal;
	struct mtb_can_meniscus_record *men;
	char (*men_reason)[128];
	char (*men_sha)[65];
	int n_men, cap_men;
	struct mtb_can_step_record *steps;
	int n_steps, cap_steps;
	int committed;        /* runs committed */
	/* live view (NULL without --live) */
	struct mtb_live *live;
	struct mtb_can_io_hal *hio;
	const struct mtb_vessel *v;
	const struct mtb_can_u_in *u;
	int n_runs;
	int state, run_index;
	int64_t base_mg;      /* the vessel as last weighed empty: the fill state's zero */
	bool have_base;
	int64_t last_balance_wall_us, last_frame_wall_us;
	int last_status;
	bool quiet;
	int64_t t0_us;        /* bench time of the first state, for the terminal's [m:ss] */
	bool have_t0;
	int failures;         /* records that could not be written */
	char error[512];
};

static void live_balance(struct can_run_ctx *c, int64_t t_us, int rc, int64_t mass_mg, bool stable);

static void on_balance(void *user, int64_t t_us, int rc, int64_t mass_mg, bool stable)
{
	struct can_run_ctx *c = user;
	if (c->live)
		live_balance(c, t_us, rc, mass_mg, stable);
	if (c->n_bal == c->cap_bal) {
		int cap = c->cap_bal ? 2 * c->cap_bal : 1024;
		void *p = realloc(c->bal, (size_t)cap * sizeof *c->bal);
		if (!p) {
			c->failures++;
			return;
		}
		c->bal = p;
		c->cap_bal = cap;
	}
	c->bal[c->n_bal++] = (struct mtb_can_balance_record){ t_us, rc, mass_mg, stable };
}

static void on_meniscus(void *user, int64_t t_us, struct mtb_meniscus_obs *m, const unsigned char *png, size_t len)
{
	struct can_run_ctx *c = user;
	if (png && len) {
		struct mtb_errbuf eb = { { 0 } };
		if (mtb_records_evidence_put(c->rec, png, len, "image/png", m->image_sha256, &eb) != MTB_OK) {
			m->image_sha256[0] = '\0';
			c->failures++;
			snprintf(c->error, sizeof c->error, "%s", eb.msg);
		}
	}
	if (c->n_men == c->cap_men) {
		int cap = c->cap_men ? 2 * c->cap_men : 16;
		void *a = realloc(c->men, (size_t)cap * sizeof *c->men);
		if (a)
			c->men = a;
		void *b = realloc(c->men_reason, (size_t)cap * sizeof *c->men_reason);
		if (b)
			c->men_reason = b;
		void *d = realloc(c->men_sha, (size_t)cap * sizeof *c->men_sha);
		if (d)
			c->men_sha = d;
		if (!a || !b || !d) {
			c->failures++;
			return;
		}
		c->cap_men = cap;
	}
	int i = c->n_men++;
	snprintf(c->men_reason[i], sizeof c->men_reason[i], "%s", m->reason);
	snprintf(c->men_sha[i], sizeof c->men_sha[i], "%s", m->image_sha256);
	c->men[i] = (struct mtb_can_meniscus_record){ t_us, m->ok, m->level_div, m->confidence, NULL, NULL };
}

/* ---- live view (docs/live-view.md "A can run") ---- */

#define LIVE_BALANCE_PERIOD_US 200000   /* wall time between two balance events */
#define LIVE_FRAME_PERIOD_US 250000     /* wall time between two neck frames between readings */

static void live_publish(struct mtb_live *live, char *ev)
{
	if (ev)
		mtb_live_event(live, ev);
	free(ev);
}

static double bench_s(const struct can_run_ctx *c, int64_t t_us)
{
	return c->have_t0 ? (double)(t_us - c->t0_us) / 1e6 : 0;
}

/* A neck frame to the camera stream: JPEG, with what was read drawn over the meniscus. */
static void live_frame(struct can_run_ctx *c, const struct mtb_image *img, const struct mtb_live_overlay *ov)
{
	unsigned char *jpg = NULL;
	size_t len = 0;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_image_encode_jpeg(img, 85, &jpg, &len, &eb) == MTB_OK)
		mtb_live_frame(c->live, 1, jpg, len, ov);
	free(jpg);
}

static void live_tick(struct can_run_ctx *c);

static void live_balance(struct can_run_ctx *c, int64_t t_us, int rc, int64_t mass_mg, bool stable)
{
	/* the fill state's zero: the vessel weighed empty (or as found, until it is) */
	if (rc == MTB_OK && stable && (!c->have_base || c->state == MTB_CAN_WEIGH_EMPTY)) {
		c->base_mg = mass_mg;
		c->have_base = true;
	}
	int64_t now = mtb_clock_now_us(&mtb_clock_system);
	if (rc == c->last_status && now - c->last_balance_wall_us < LIVE_BALANCE_PERIOD_US)
		return;
	c->last_status = rc;
	c->last_balance_wall_us = now;
	struct mtb_live_balance b = { .status = rc == MTB_OK ? "ok" : rc == MTB_ERR_TIMEOUT ? "silent"
							     : rc == MTB_ERR_RANGE ? "overload" : "refused",
				      .have_mass = rc == MTB_OK, .stable = stable, .mass_mg = mass_mg,
				      .bench_time_s = bench_s(c, t_us) };
	if (rc == MTB_OK && c->have_base) {
		/* an estimate for the screen: water of 998.2 kg/m3 (the volume comes from ISO 4787) */
		b.have_water = true;
		b.water_ul = llround((double)(mass_mg - c->base_mg) / 0.9982);
		b.fill_pct = 100.0 * (double)b.water_ul / (double)c->v->nominal_ul;
	}
	mtb_can_io_hal_valves_commanded(c->hio, &b.fill_open, &b.drain_open);
	live_publish(c->live, mtb_live_json_balance(&b));
	live_tick(c);
}

/* Between readings the water moves on screen: a neck frame a few times a second of wall time,
 * taken while the balance is polled and while the procedure waits (none while the water stands
 * off the scale: the simulated camera has no image then). */
static void live_tick(struct can_run_ctx *c)
{
	int64_t now = mtb_clock_now_us(&mtb_clock_system);
	if (c->state == MTB_CAN_READ || now - c->last_frame_wall_us < LIVE_FRAME_PERIOD_US)
		return;
	c->last_frame_wall_us = now;
	struct mtb_image *img = NULL;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_can_io_hal_capture(c->hio, &img, &eb) == MTB_OK)
		live_frame(c, img, NULL);
	mtb_image_destroy(img);
}

static void on_wait(void *user, int64_t t_us)
{
	(void)t_us;
	struct can_run_ctx *c = user;
	if (c->live && c->hio)
		live_tick(c);
}

static void on_frame(void *user, const struct mtb_image *img, const struct mtb_meniscus_obs *m, double y_px)
{
	struct can_run_ctx *c = user;
	if (!c->live)
		return;
	live_publish(c->live, mtb_live_json_meniscus(c->run_index, m, c->v, bench_s(c, img->t_mono_us)));
	struct mtb_live_overlay ov;
	memset(&ov, 0, sizeof ov);
	if (m->ok) {
		double vol_l = ((double)c->v->scale.zero_ul + m->level_div * (double)c->v->scale.division_ul) / 1e6;
		snprintf(ov.text, sizeof ov.text, "%.2f div = %.4f L", m->level_div, vol_l);
		ov.label_top = true;
		if (y_px >= 0) {   /* a band across the image at the meniscus's lowest point */
			ov.x_px = img->width / 8;
			ov.w_px = img->width - 2 * ov.x_px;
			ov.y_px = (int)lround(y_px) - 5;
			ov.h_px = 10;
		}
	} else {
		snprintf(ov.text, sizeof ov.text, "not read: %.50s", m->reason);
	}
	live_frame(c, img, &ov);
	c->last_frame_wall_us = mtb_clock_now_us(&mtb_clock_system);
}

static void on_fill_step(void *user, const struct mtb_can_fill_step *s)
{
	struct can_run_ctx *c = user;
	if (c->n_steps == c->cap_steps) {
		int cap = c->cap_steps ? 2 * c->cap_steps : 32;
		void *p = realloc(c->steps, (size_t)cap * sizeof *c->steps);
		if (!p) {
			c->failures++;
			return;
		}
		c->steps = p;
		c->cap_steps = cap;
	}
	c->steps[c->n_steps++] = (struct mtb_can_step_record){ s->t_us, mtb_can_step_kind_name(s->kind), s->open_us,
							       s->mass_mg, s->level_div, s->aim_div };
}

/* Commits what was observed since the last commit, as run `idx` (run NULL: not completed). */
static void commit(struct can_run_ctx *c, int idx, const struct mtb_can_run *run)
{
	for (int i = 0; i < c->n_men; i++) {
		c->men[i].reason = c->men_reason[i];
		c->men[i].image_sha256 = c->men_sha[i];
	}
	struct mtb_can_run_record rr;
	if (run)
		rr = (struct mtb_can_run_record){ run->full_mg, run->empty_mg, run->level_div, run->water_temp_c,
						  run->air_temp_c, run->p_hpa, run->rh_pct };
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_records_can_run_commit_steps(c->rec, c->sid, idx, run ? &rr : NULL, c->bal, c->n_bal, c->men, c->n_men,
					     c->steps, c->n_steps, &eb) != MTB_OK) {
		c->failures++;
		snprintf(c->error, sizeof c->error, "%s", eb.msg);
	}
	c->n_bal = c->n_men = c->n_steps = 0;
	c->committed = idx + 1;
}

/* "[  4:05] run 2 fill": the terminal follows the procedure (bench time since this run began). */
static void term_line(struct can_run_ctx *c, int64_t t_us, int run_index, const char *what)
{
	if (!c->have_t0) {
		c->t0_us = t_us;
		c->have_t0 = true;
	}
	if (c->quiet)
		return;
	int64_t s = (t_us - c->t0_us) / 1000000;
	fprintf(stderr, "[%3lld:%02lld] run %d %s\n", (long long)(s / 60), (long long)(s % 60), run_index + 1, what);
}

static void on_state(void *user, int64_t t_us, int state, int run_index)
{
	struct can_run_ctx *c = user;
	term_line(c, t_us, run_index, mtb_can_state_name((enum mtb_can_state)state));
	c->state = state;
	c->run_index = run_index;
	if (c->live)
		live_publish(c->live, mtb_live_json_can_state(mtb_can_state_name((enum mtb_can_state)state), run_index,
							      c->n_runs, bench_s(c, t_us)));
}

static void on_run(void *user, int run_index, const struct mtb_can_run *run)
{
	struct can_run_ctx *c = user;
	int64_t t = c->n_bal ? c->bal[c->n_bal - 1].t_mono_us : c->t0_us;
	commit(c, run_index, run);
	/* said once it is in the records (the crash test holds the run to it) */
	if (!c->failures)
		term_line(c, t, run_index, "recorded");
	if (c->live && !c->failures)
		live_publish(c->live, mtb_live_json_can_run(c->v, c->u, run_index, run));
}

static int write_results(const struct mtb_vessel *v, const struct mtb_can_result *res,
			 const struct mtb_can_report_info *info, const char *out, struct mtb_errbuf *eb)
{
	char path[1200], tmp[1300];
	snprintf(path, sizeof path, "%s/results.json", out);
	if (mtb_file_out_tmp(path, tmp, sizeof tmp) != MTB_OK)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: path too long", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return mtb_errbuf_set(eb, MTB_ERR_IO, "%s: %s", path, strerror(errno));
	bool ok = mtb_can_report_write_json(v, res, info, f) == MTB_OK;
	ok = fclose(f) == 0 && ok;
	int rc = mtb_file_out_commit(tmp, path, ok, eb);
	if (rc != MTB_OK)
		return rc;
	snprintf(path, sizeof path, "%s/certificate.pdf", out);
	return mtb_can_report_write_pdf(v, res, info, path, eb);
}

static void ml(FILE *f, const char *key, double ul)
{
	fprintf(f, ",\"%s\":", key);
	mtb_json_double(f, round(ul) / 1000.0);
}

static void on_tare(void *user, int64_t dry_mg)
{
	struct can_run_ctx *c = user;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_records_can_tare(c->rec, c->sid, dry_mg, &eb) != MTB_OK) {
		c->failures++;
		snprintf(c->error, sizeof c->error, "%s", eb.msg);
	}
}

int mtb_cmd_run_can(const struct mtb_run_can_args *a)
{
	struct mtb_errbuf eb = { { 0 } };
	const char *out = a->out;
	struct mtb_can_plan_file pf;
	if (mtb_can_plan_parse(a->plan_text, a->plan_len, a->plan_path, &pf, &eb) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --plan: %s", CMD, eb.msg);
	struct mtb_vessel v;
	if (mtb_vessel_load(pf.vessel_name, &v, &eb) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --plan: %s: field 'vessel': %s", CMD, a->plan_path, eb.msg);
	struct mtb_bench_cfg *cfg;
	if (mtb_bench_cfg_load(a->bench, &cfg, &eb) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --bench: %s", CMD, eb.msg);
	bool lockstep = false;
	for (int i = 0; i < cfg->n_devices; i++)
		lockstep = lockstep || cfg->devices[i].cls == MTB_DEV_SIM_CLOCK;
	if (a->pace > 0 && !lockstep) {
		const char *origin = cfg->origin;
		int erc = mtb_cli_error(MTB_EXIT_USAGE, "%s: --pace: only on a simulated bench in lockstep (%s has no sim-clock device)",
					CMD, origin);
		mtb_bench_cfg_destroy(cfg);
		return erc;
	}

	if (mkdir(out, 0777) != 0 && errno != EEXIST) {
		mtb_bench_cfg_destroy(cfg);
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: --out: cannot create '%s': %s", CMD, out, strerror(errno));
	}
	char db_path[1100];
	snprintf(db_path, sizeof db_path, "%s/records.sqlite", out);
	struct mtb_records *rec;
	if (mtb_records_open(db_path, &rec, &eb) != MTB_OK) {
		mtb_bench_cfg_destroy(cfg);
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s", CMD, eb.msg);
	}
	const char *operator_name = a->operator_name ? a->operator_name : pf.operator_name[0] ? pf.operator_name : getenv("USER");
	char sid[MTB_SESSION_ID_LEN + 1];
	struct mtb_session_info info = {
		.plan_name = pf.name, .plan_text = a->plan_text, .bench_name = cfg->name,
		.standard = "ISO 4787 gravimetric (EURAMET cg-19)", .mode = "verification", .reading = "camera",
		.operator_name = operator_name, .rule_set = mtb_vessel_rule_name(v.rule),
		.customer = pf.customer[0] ? pf.customer : NULL, .started_unix_s = (int64_t)time(NULL),
	};
	/* A resumed session: the runs it recorded stay as they are, the rest are done now. */
	struct mtb_can_view *cv = NULL;
	struct mtb_can_run done_runs[MTB_CAN_MAX_RUNS];
	struct mtb_can_resume from = { 0 };
	double prior_bench_s = 0;
	/* killed after the series was recorded and before the session was finished: the series
	 * stands as recorded (with the bench time it states) and the session is finished */
	bool have_result = false;
	double result_bench_s = 0;
	char recorded_operator[64] = "";
	if (a->resume) {
		const char *why = NULL;
		snprintf(sid, sizeof sid, "%s", a->resume);
		int lrc = mtb_records_can_load(rec, sid, &cv, &eb);
		if (lrc == MTB_OK && !cv->vessel[0])
			why = "is not a can session";
		else if (lrc == MTB_OK && strcmp(cv->status, "complete") == 0)
			why = "is complete";
		else if (lrc == MTB_OK && strcmp(cv->plan_text, a->plan_text) != 0)
			why = "was run with another plan (the plan file differs from the one recorded)";
		else if (lrc == MTB_OK && strcmp(cv->vessel, v.name) != 0)
			why = "was run on another vessel type";
		else if (lrc == MTB_OK && cv->n_runs > pf.plan.runs)
			why = "has more runs recorded than the plan asks for";
		else if (lrc == MTB_OK && cv->n_sealed_runs != cv->n_runs)
			why = "sealed its aborted run's observations as a run (recorded before can sessions could be "
			      "resumed): it cannot be carried on";
		if (lrc != MTB_OK || why) {
			if (why)
				mtb_errbuf_set(&eb, MTB_ERR_STATE, "records: session %s %s", sid, why);
			mtb_records_can_view_free(cv);
			mtb_records_close(rec);
			mtb_bench_cfg_destroy(cfg);
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --resume: %s", CMD, eb.msg);
		}
		if (mtb_records_session_resume(rec, sid, &eb) < 0) {
			mtb_records_can_view_free(cv);
			mtb_records_close(rec);
			mtb_bench_cfg_destroy(cfg);
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --resume: %s", CMD, eb.msg);
		}
		for (int i = 0; i < cv->n_runs; i++) {
			const struct mtb_can_run_record *u = &cv->runs[i];
			done_runs[i] = (struct mtb_can_run){ u->full_mg, u->empty_mg, u->water_temp_c, u->air_temp_c,
							     u->p_hpa, u->rh_pct, u->level_div };
		}
		from = (struct mtb_can_resume){ cv->n_runs, done_runs, (const char(*)[65])cv->evidence_sha256,
						cv->have_dry != 0, cv->dry_mg };
		prior_bench_s = cv->bench_time_s > 0 ? cv->bench_time_s : 0;
		const char *bt = cv->result_json ? strstr(cv->result_json, "\"bench_time_s\":") : NULL;
		if (bt && cv->n_runs == pf.plan.runs && sscanf(bt, "\"bench_time_s\":%lf", &result_bench_s) == 1)
			have_result = true;
		info.started_unix_s = cv->started_unix_s;
		snprintf(recorded_operator, sizeof recorded_operator, "%s", cv->operator_name);
		operator_name = recorded_operator;
		fprintf(stderr, "resuming session %s at run %d of %d\n", sid, cv->n_runs + 1, pf.plan.runs);
	} else {
		struct mtb_meter_record vessel_rec = { 1, pf.serial, v.name };
		if (mtb_records_session_begin(rec, &info, &vessel_rec, 1, sid, &eb) != MTB_OK) {
			mtb_records_close(rec);
			mtb_bench_cfg_destroy(cfg);
			return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s", CMD, eb.msg);
		}
		if (!a->quiet)
			fprintf(stderr, "session %s: %s, vessel %s %s, %d runs, records in %s\n", sid, pf.name, v.name,
				pf.serial, pf.plan.runs, db_path);
	}

	struct can_run_ctx ctx = { .rec = rec, .sid = sid, .quiet = a->quiet, .v = &v, .u = &pf.plan.u,
				   .n_runs = pf.plan.runs, .last_status = 1 };
	if (a->live) {
		struct mtb_live_opts lo = { .max_viewers = a->max_viewers > 0 ? a->max_viewers : 16, .n_cameras = 1,
					    .operator_token = getenv("MTB_OPERATOR_TOKEN") };
		struct mtb_session_view *sv = NULL;
		if (mtb_live_create(&ctx.live, a->live, &lo, &eb) != MTB_OK ||
		    mtb_records_session_load(rec, sid, &sv, &eb) != MTB_OK) {
			free(sv);
			mtb_live_destroy(ctx.live);
			mtb_records_can_view_free(cv);
			mtb_records_close(rec);
			mtb_bench_cfg_destroy(cfg);
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --live: %s", CMD, eb.msg);
		}
		live_publish(ctx.live, mtb_live_json_session(sv));
		free(sv);
		struct mtb_live_can_info ci = { sid, pf.serial, operator_name, info.standard, &v, pf.plan.runs,
						from.n_runs, a->resume != NULL };
		live_publish(ctx.live, mtb_live_json_can_session(&ci));
		for (int i = 0; i < from.n_runs; i++)   /* a resumed session: the runs already recorded */
			live_publish(ctx.live, mtb_live_json_can_run(&v, &pf.plan.u, i, &done_runs[i]));
		char host[64] = "127.0.0.1";
		const char *colon = strrchr(a->live, ':');
		if (colon && colon - a->live < (long)sizeof host && colon > a->live)
			snprintf(host, sizeof host, "%.*s", (int)(colon - a->live), a->live);
		if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "localhost") == 0)
			snprintf(host, sizeof host, "127.0.0.1");
		fprintf(stderr, "live view: http://%s:%d/\n", host, mtb_live_port(ctx.live));
		mtb_live_set_control(ctx.live, mtb_live_control_abort_flag, &abort_flag);
	}
	struct mtb_log log = { mtb_log_sink_stderr, NULL, MTB_LOG_WARN };
	struct mtb_can_io_hal_opts ho = { .lockstep = lockstep, .vessel = &v, .log = &log, .on_balance = on_balance,
					  .on_meniscus = on_meniscus, .on_run = on_run, .on_tare = on_tare, .on_state = on_state,
					  .on_fill_step = on_fill_step, .on_frame = on_frame, .on_wait = a->live ? on_wait : NULL, .pace = a->pace, .user = &ctx };
	struct mtb_can_io_hal *hio = NULL;
	/* the runs already recorded: the next commit is the next run */
	ctx.committed = from.n_runs;
	int rc = mtb_can_io_hal_create(&hio, cfg, &ho, &eb);
	if (rc != MTB_OK) {
		mtb_records_session_finish(rec, sid, "aborted", 0, &eb);
		mtb_records_can_view_free(cv);
		mtb_live_destroy(ctx.live);
		mtb_records_close(rec);
		mtb_bench_cfg_destroy(cfg);
		return mtb_cli_error(rc == MTB_ERR_ARG ? MTB_EXIT_USAGE : MTB_EXIT_FAIL, "%s: %s", CMD, eb.msg);
	}
	ctx.hio = hio;
	struct mtb_can_io io = mtb_can_io_hal_port(hio);
	/* Ctrl-C or the live view's abort: the procedure closes the valves and stops */
	io.abort_flag = &abort_flag;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	struct mtb_can_result *res = calloc(1, sizeof *res);
	if (!res)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: out of memory", CMD);
	rc = mtb_can_procedure_resume(&v, &pf.plan, &io, a->resume ? &from : NULL, res);
	mtb_records_can_view_free(cv);
	/* the session's bench time: what earlier runs of it recorded, and this one's */
	int64_t this_bench_us = res->bench_time_us;
	res->bench_time_us += llround(prior_bench_s * 1e6);
	if (have_result && res->state == MTB_CAN_DONE) {
		res->bench_time_us = llround(result_bench_s * 1e6);
		this_bench_us = res->bench_time_us - llround(prior_bench_s * 1e6);
	}
	bool closed = false;
	struct mtb_errbuf veb = { { 0 } };
	int vrc = mtb_can_io_hal_valves_closed(hio, &closed, &veb);
	char device_detail[200];
	snprintf(device_detail, sizeof device_detail, "%s", mtb_can_io_hal_last_error(hio));
	mtb_can_io_hal_destroy(hio);
	mtb_bench_cfg_destroy(cfg);

	/* The observations of an aborted run are records too (no run row, no volume). */
	if (res->state != MTB_CAN_DONE && (ctx.n_bal || ctx.n_men))
		commit(&ctx, ctx.committed, NULL);
	char *budget = NULL;
	size_t budget_len = 0;
	char evidence[160];
	snprintf(evidence, sizeof evidence, "records.sqlite, session %s", sid);
	/* the certificate's date is the day the session started (UTC), as recorded: meterbench
	 * report prints the same */
	char date[16];
	time_t t0 = (time_t)info.started_unix_s;
	struct tm tmv;
	gmtime_r(&t0, &tmv);
	strftime(date, sizeof date, "%Y-%m-%d", &tmv);
	struct mtb_can_report_info rinfo = { pf.serial, "", operator_name ? operator_name : "", date, evidence };
	if (res->state == MTB_CAN_DONE && !have_result) {
		FILE *mf = open_memstream(&budget, &budget_len);
		if (mf) {
			mtb_can_report_write_json(&v, res, &rinfo, mf);
			fclose(mf);
		}
		const struct mtb_can_series *s = &res->series;
		struct mtb_can_result_record rr = { v.name, s->n, s->mean_v_ref_ul, s->s_error_ul, s->error_ul, s->u_exp_ul_int,
						   mtb_vessel_mpe_ul(&v), mtb_vessel_verdict_name(s->verdict), budget };
		if (mtb_records_can_result_commit(rec, sid, &rr, &eb) != MTB_OK) {
			ctx.failures++;
			snprintf(ctx.error, sizeof ctx.error, "%s", eb.msg);
		}
	}
	free(budget);
	double bench_s = this_bench_us / 1e6;
	if (mtb_records_session_finish(rec, sid, res->state == MTB_CAN_DONE ? "complete" : "aborted", bench_s, &eb) != MTB_OK) {
		ctx.failures++;
		snprintf(ctx.error, sizeof ctx.error, "%s", eb.msg);
	}
	mtb_records_close(rec);
	int wrc = write_results(&v, res, &rinfo, out, &eb);

	if (ctx.live) {
		char pdf[1200];
		snprintf(pdf, sizeof pdf, "%s/certificate.pdf", out);
		if (wrc == MTB_OK)
			mtb_live_set_report(ctx.live, pdf);
		live_publish(ctx.live, mtb_live_json_can_state(mtb_can_state_name(res->state), res->n_runs, pf.plan.runs,
							       res->bench_time_us / 1e6));
		live_publish(ctx.live, mtb_live_json_can_result(&v, res, sid));
	}
	printf("{\"session_id\":\"%s\",\"vessel\":", sid);
	mtb_json_string(stdout, v.name);
	printf(",\"serial\":");
	mtb_json_string(stdout, pf.serial);
	printf(",\"state\":\"%s\",\"runs\":%d", mtb_can_state_name(res->state), res->n_runs);
	if (res->state == MTB_CAN_DONE) {
		ml(stdout, "error_ml", (double)res->series.error_ul);
		ml(stdout, "u_exp_ml", (double)res->series.u_exp_ul_int);
		ml(stdout, "s_ml", res->series.s_error_ul);
		ml(stdout, "mpe_ml", (double)mtb_vessel_mpe_ul(&v));
		printf(",\"verdict\":\"%s\"", mtb_vessel_verdict_name(res->series.verdict));
	} else {
		printf(",\"failed_in\":\"%s\",\"reason\":", mtb_can_state_name(res->failed_in));
		mtb_json_string(stdout, res->reason);
	}
	printf(",\"valves_closed\":%s,\"bench_time_s\":", vrc == MTB_OK && closed ? "true" : "false");
	mtb_json_double(stdout, round(res->bench_time_us / 1e5) / 10);
	printf("}\n");
	fflush(stdout);
	if (ctx.live) {
		/* the result stays on the customer's screen until the operator ends it */
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		if (!interrupted)
			fprintf(stderr, "live view: the run is over; serving the result until Ctrl-C\n");
		/* the flag is polled: the signal may be handled on a server thread, which would leave
		 * this thread in pause() */
		while (!interrupted) {
			struct timespec ts = { 0, 200000000 };
			nanosleep(&ts, NULL);
		}
		mtb_live_destroy(ctx.live);
	}

	free(ctx.bal);
	free(ctx.men);
	free(ctx.men_reason);
	free(ctx.men_sha);
	free(ctx.steps);
	enum mtb_can_state state = res->state;
	char reason[200];
	snprintf(reason, sizeof reason, "%s", res->reason);
	enum mtb_can_state failed_in = res->failed_in;
	free(res);
	if (rc != MTB_OK)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s", CMD, mtb_strerror(rc));
	if (ctx.failures)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: %d records could not be written: %s", CMD, ctx.failures, ctx.error);
	if (wrc != MTB_OK)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s", CMD, eb.msg);
	if (state != MTB_CAN_DONE)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: aborted in %s: %s%s%s (no volume; valves %s)", CMD,
				     mtb_can_state_name(failed_in), reason, device_detail[0] ? ": " : "", device_detail,
				     closed ? "closed" : "not confirmed closed");
	return MTB_EXIT_OK;
}
