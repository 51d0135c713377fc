/* meterbench run: a verification session on a bench (CONTRACTS.md). */
#include "cli.h"
#include "commands.h"

#include "bench/bench_io_hal.h"
#include "bench/can_plan.h"
#include "bench/dial_reader.h"
#include "bench/live.h"
#include "bench/records.h"
#include "bench/report.h"
#include "bench/sequencer.h"
#include "calibration/date.h"
#include "core/config.h"
#include "core/yaml_load.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char MTB_CMD_RUN_USAGE[] =
	"usage: meterbench run --plan FILE --bench FILE --out DIR [--reading camera|manual]\n"
	"                      [--resume SESSION] [--operator NAME] [--quiet] [--live HOST:PORT]\n"
	"                      [--max-viewers N] [--pace X]\n"
	"\n"
	"Runs the plan's test points on the bench: purge, set and stabilise each flow, start\n"
	"(flying, or standing for --reading manual and standing-start plans), run the test volume\n"
	"chosen from the reading resolution achieved, stop, read every dial by camera, correct the\n"
	"reference volume, judge each meter, and commit the point to DIR/records.sqlite before the\n"
	"next one starts. Then writes DIR/results.json, DIR/results.csv and DIR/report.pdf.\n"
	"\n"
	"  --reading manual   models today's practice for comparison: standing start, a technician\n"
	"                     reading each dial to the nearest scale interval (error up to half an\n"
	"                     interval), 15 s per meter per reading\n"
	"  --resume SESSION   carries on an interrupted session of DIR/records.sqlite from the\n"
	"                     point in progress (a can session: from the run in progress, after\n"
	"                     closing the valves, draining and re-taring the vessel)\n"
	"  --live HOST:PORT   serves the live view (docs/live-view.md): the page at /, server-sent\n"
	"                     events at /events, each meter's camera at /camera/<position>.mjpeg;\n"
	"                     read-only; abort needs $MTB_OPERATOR_TOKEN as a bearer token. After\n"
	"                     the run it keeps serving the verdict until Ctrl-C. Port 0 picks a\n"
	"                     free port; the address is printed on stderr (\"live view: URL\").\n"
	"  --max-viewers N    at most N live-view streams at once (events and cameras; default 16)\n"
	"  --pace X           on the simulated bench in lockstep, bench time runs at most X times\n"
	"                     real time (a demonstration people watch); default: as fast as the\n"
	"                     simulator answers\n"
	"A can plan (kind: can, docs/cans.md) verifies a measuring can or cylinder instead: fill\n"
	"through the bench's can_fill valve, weigh on its balance, read the neck by camera, compute\n"
	"the volume at the reference temperature (ISO 4787) n times, judge; writes DIR/records.sqlite,\n"
	"DIR/results.json and DIR/certificate.pdf and prints one JSON line; --resume, --live and\n"
	"--pace work for it as for meters (docs/can-resume.md, docs/live-view.md).\n"
	"On the simulated bench (a bench file with a sim-clock device) the run is in lockstep with\n"
	"the simulator: bench time is simulated time. Exit status 1 when the run aborts (the bench\n"
	"is then in its safe state); Ctrl-C aborts.\n";

static const char *const CMD = "run";
static volatile sig_atomic_t interrupted;
static int abort_flag;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
	__atomic_store_n(&abort_flag, 1, __ATOMIC_SEQ_CST);
}

struct term {
	bool quiet;
	int last_state;
	double last_print_s;
	/* live view (NULL without --live) */
	struct mtb_live *live;
	struct mtb_records *rec;
	const char *sid;
	struct mtb_dial_reader *dr;
	const char *type_name;
	struct mtb_run_progress now;   /* the last progress: the point and phase a frame belongs to */
	char point_name[16];
	/* between readings, frames that keep the dials moving on screen: one camera at a time */
	const int *positions;
	int n_positions, next_camera;
	int64_t last_frame_wall_us;
};

#define LIVE_FRAME_PERIOD_US 250000   /* wall time between two frames between readings */

/* Live view: the dial reader's frames go to the camera streams, the value drawn over the dial. */
static int read_dial_live(void *user, int position, struct mtb_dial_obs *out)
{
	struct term *t = user;
	int rc = mtb_dial_reader_read(t->dr, position, out);
	/* The reading and its frame go out together, as they are made (a refused frame as "no
	 * reading"); the committed point sends its readings again with their evidence digests. */
	if (rc == MTB_OK || out->jpeg) {
		struct mtb_reading_record x = { .position = position,
						.phase = t->now.state == MTB_RUN_START ? "start" : "end",
						.t_mono_us = out->t_us, .volume_ul = out->ok ? out->volume_ul : -1,
						.confidence = out->ok ? out->confidence : 0 };
		char *ev = mtb_live_json_reading(t->now.point_index, t->point_name, &x);
		if (ev)
			mtb_live_event(t->live, ev);
		free(ev);
	}
	if (out->jpeg && out->jpeg_len)
		mtb_live_frame_reading(t->live, position, t->type_name, out->jpeg, out->jpeg_len, out->ok ? out->volume_ul : -1);
	t->last_frame_wall_us = mtb_clock_now_us(&mtb_clock_system);
	return rc;
}

static void live_progress(struct term *t, const struct mtb_run_progress *p)
{
	struct mtb_errbuf eb;
	t->now = *p;
	snprintf(t->point_name, sizeof t->point_name, "%s", p->point_name ? p->point_name : "");
	/* The sequencer announces COMMIT once the point is recorded. */
	if (p->state == MTB_RUN_COMMIT)
		mtb_live_publish_point(t->live, t->rec, t->sid, p->point_index, &eb);
	mtb_live_progress(t->live, p);
	/* Water flowing: between readings the dials move on screen, a few frames per second of wall
	 * time, one camera per frame in turn (the readings' frames stay as they were read). */
	bool between = p->state == MTB_RUN_PURGE || p->state == MTB_RUN_SET_FLOW || p->state == MTB_RUN_STABILISE ||
		       p->state == MTB_RUN_RUN || p->state == MTB_RUN_STOP;
	int64_t now = mtb_clock_now_us(&mtb_clock_system);
	if (between && t->n_positions > 0 && now - t->last_frame_wall_us >= LIVE_FRAME_PERIOD_US) {
		int pos = t->positions[t->next_camera++ % t->n_positions];
		unsigned char *jpg;
		size_t len;
		if (mtb_dial_reader_capture(t->dr, pos, &jpg, &len, &eb) == MTB_OK)
			mtb_live_frame(t->live, pos, jpg, len, NULL);
		free(jpg);
		t->last_frame_wall_us = now;
	}
}

static void progress(void *user, const struct mtb_run_progress *p)
{
	struct term *t = user;
	if (t->live)
		live_progress(t, p);
	if (t->quiet)
		return;
	bool changed = (int)p->state != t->last_state;
	if (!changed && p->bench_time_s - t->last_print_s < 30)
		return;
	t->last_state = (int)p->state;
	t->last_print_s = p->bench_time_s;
	int m = (int)(p->bench_time_s / 60), s = (int)p->bench_time_s % 60;
	switch (p->state) {
	case MTB_RUN_RUN: {
		double left = p->flow_lph > 0 ? (p->target_volume_l - p->volume_l) / p->flow_lph * 3600 : 0;
		fprintf(stderr, "[%3d:%02d] %-3s run       %8.2f L/h  %8.3f / %.3f L  ~%.0f s left\n", m, s,
			p->point_name ? p->point_name : "", p->flow_lph, p->volume_l, p->target_volume_l, left > 0 ? left : 0);
		break;
	}
	case MTB_RUN_COMMIT:
		fprintf(stderr, "[%3d:%02d] %-3s recorded  %d of %d meters read\n", m, s, p->point_name ? p->point_name : "",
			p->meters_read, p->meters_total);
		break;
	default:
		fprintf(stderr, "[%3d:%02d] %-3s %-9s %8.2f L/h (set %.2f)\n", m, s, p->point_name ? p->point_name : "",
			mtb_run_state_name(p->state), p->flow_lph, p->target_lph);
	}
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len;
	struct mtb_errbuf eb;
	return mtb_file_read(path, MTB_YAML_MAX_BYTES, &buf, &len, &eb) == MTB_OK ? buf : NULL;
}

static void print_summary(const struct mtb_session_view *s, const char *out)
{
	printf("session %s  %s  %s  reading %s  bench time %.1f s\n", s->id, s->standard, s->mode, s->reading,
	       s->bench_time_s);
	printf("%-4s %-14s", "pos", "serial");
	for (int k = 0; k < (s->n_meters ? s->meters[0].n_points : 0); k++)
		printf(" %8s E%%  U%%  ", s->meters[0].points[k].name);
	printf("  verdict\n");
	for (int i = 0; i < s->n_meters; i++) {
		const struct mtb_meter_view *m = &s->meters[i];
		printf("%-4d %-14s", m->position, m->serial);
		for (int k = 0; k < m->n_points; k++) {
			const struct mtb_point_view *p = &m->points[k];
			if (strcmp(p->verdict, "invalid") == 0 && p->mpe_ppm == 0)
				printf(" %8s %5s ", "unread", "");
			else
				printf(" %+8.3f %5.3f%s", p->error_ppm / 1e4, p->u_exp_ppm / 1e4,
				       strcmp(p->verdict, "pass") == 0 ? " " : "!");
		}
		printf("  %s\n", mtb_report_meter_verdict(m, s->rule_set));
	}
	printf("report: %s/report.pdf  results: %s/results.json  records: %s/records.sqlite\n", out, out, out);
}

int mtb_cmd_run(int argc, char **argv)
{
	struct mtb_cli_opt opts[] = {
		{ "plan", true, 0 }, { "bench", true, 0 }, { "out", true, 0 }, { "reading", true, 0 },
		{ "live", true, 0 }, { "resume", true, 0 }, { "operator", true, 0 }, { "quiet", false, 0 },
		{ "pace", true, 0 }, { "max-viewers", true, 0 }, { 0 },
	};
	const char *pos[1];
	int n_pos, rc;
	if ((rc = mtb_cli_parse(CMD, argc, argv, opts, pos, 0, &n_pos)) != 0)
		return rc;
	const char *plan_arg = mtb_cli_get(opts, "plan"), *bench_arg = mtb_cli_get(opts, "bench");
	const char *out = mtb_cli_get(opts, "out"), *reading = mtb_cli_get(opts, "reading");
	if (!plan_arg || !bench_arg || !out)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: missing --%s", CMD, !plan_arg ? "plan" : !bench_arg ? "bench" : "out");
	enum mtb_reading_mode mode = MTB_READING_CAMERA;
	if (reading && strcmp(reading, "manual") == 0)
		mode = MTB_READING_MANUAL;
	else if (reading && strcmp(reading, "camera") != 0)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --reading: must be camera or manual, got '%s'", CMD, reading);

	struct mtb_errbuf eb = { { 0 } };
	{
		/* A can plan (kind: can) runs the measuring-can procedure (cmd_run_can.c). */
		char path[1024], *text = NULL;
		size_t len = 0;
		if (mtb_config_read("plans", plan_arg, path, sizeof path, &text, &len, &eb) != MTB_OK)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --plan: %s", CMD, eb.msg);
		if (mtb_can_plan_detect(text, len)) {
			if (reading) {
				free(text);
				return mtb_cli_error(MTB_EXIT_USAGE, "%s: --reading: not for a can plan (%s)", CMD, path);
			}
			double cpace = 0, cviewers = 16;
			const char *pa = mtb_cli_get(opts, "pace"), *va = mtb_cli_get(opts, "max-viewers");
			if ((pa && (rc = mtb_cli_double(CMD, "pace", pa, &cpace)) != 0) ||
			    (va && (rc = mtb_cli_double(CMD, "max-viewers", va, &cviewers)) != 0)) {
				free(text);
				return rc;
			}
			if (pa && !(cpace > 0 && cpace <= 1e6)) {
				free(text);
				return mtb_cli_error(MTB_EXIT_USAGE, "%s: --pace: must be above 0, got '%s'", CMD, pa);
			}
			if (!(cviewers >= 1 && cviewers <= 1000) || cviewers != (int)cviewers) {
				free(text);
				return mtb_cli_error(MTB_EXIT_USAGE, "%s: --max-viewers: a whole number from 1 to 1000, got '%s'", CMD, va);
			}
			struct mtb_run_can_args ca = {
				.plan_path = path, .plan_text = text, .plan_len = len, .bench = bench_arg, .out = out,
				.operator_name = mtb_cli_get(opts, "operator"), .resume = mtb_cli_get(opts, "resume"),
				.quiet = mtb_cli_get(opts, "quiet") != NULL, .live = mtb_cli_get(opts, "live"),
				.max_viewers = (int)cviewers, .pace = cpace,
			};
			rc = mtb_cmd_run_can(&ca);
			free(text);
			return rc;
		}
		free(text);
	}
	struct mtb_plan *plan = calloc(1, sizeof *plan);
	struct mtb_reference *ref = calloc(1, sizeof *ref);
	if (!plan || !ref)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: out of memory", CMD);
	char plan_path[1024];
	if (mtb_config_find("plans", plan_arg, plan_path, sizeof plan_path, &eb) != MTB_OK ||
	    mtb_plan_load(plan_path, plan, &eb) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --plan: %s", CMD, eb.msg);
	struct mtb_bench_cfg *cfg;
	if (mtb_bench_cfg_load(bench_arg, &cfg, &eb) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --bench: %s", CMD, eb.msg);

	/* The reference meter and its certificate, named in the bench file. */
	const char *cert = NULL;
	bool lockstep = false;
	for (int i = 0; i < cfg->n_devices; i++) {
		if (cfg->devices[i].cls == MTB_DEV_REFERENCE && !cert)
			cert = cfg->devices[i].certificate;
		lockstep = lockstep || cfg->devices[i].cls == MTB_DEV_SIM_CLOCK;
	}
	double pace = 0;
	const char *pace_arg = mtb_cli_get(opts, "pace");
	if (pace_arg) {
		if ((rc = mtb_cli_double(CMD, "pace", pace_arg, &pace)) != 0)
			return rc;
		if (!(pace > 0 && pace <= 1e6))
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --pace: must be above 0, got '%s'", CMD, pace_arg);
		if (!lockstep)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --pace: only on a simulated bench in lockstep (%s has no sim-clock device)",
					     CMD, cfg->origin);
	}
	double viewers = 16;
	const char *viewers_arg = mtb_cli_get(opts, "max-viewers");
	if (viewers_arg && (rc = mtb_cli_double(CMD, "max-viewers", viewers_arg, &viewers)) != 0)
		return rc;
	if (!(viewers >= 1 && viewers <= 1000) || viewers != (int)viewers)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --max-viewers: a whole number from 1 to 1000, got '%s'", CMD, viewers_arg);
	if (!cert || !*cert)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --bench: %s: the reference meter names no certificate", CMD, cfg->origin);
	char ref_path[1024];
	if (mtb_config_find("references", cert, ref_path, sizeof ref_path, &eb) != MTB_OK ||
	    mtb_reference_load(ref_path, ref, &eb) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: reference certificate: %s", CMD, eb.msg);
	int32_t today = mtb_date_from_unix((int64_t)time(NULL));
	if (mtb_reference_check_valid(ref, today, &eb) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: refused: %s", CMD, eb.msg);

	struct mtb_in_service juris;
	mtb_in_service_default(&juris);
	if (plan->mode != MTB_PLAN_VERIFICATION) {
		char jpath[1024];
		if (mtb_config_find("jurisdictions", plan->jurisdiction, jpath, sizeof jpath, &eb) != MTB_OK ||
		    mtb_in_service_load(jpath, &juris, &eb) != MTB_OK)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: plan jurisdiction: %s", CMD, eb.msg);
	}

	if (mkdir(out, 0777) != 0 && errno != EEXIST)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: --out: cannot create '%s': %s", CMD, out, strerror(errno));
	char db_path[1100];
	snprintf(db_path, sizeof db_path, "%s/records.sqlite", out);
	struct mtb_records *rec;
	if (mtb_records_open(db_path, &rec, &eb) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s", CMD, eb.msg);

	char sid[MTB_SESSION_ID_LEN + 1];
	int first_point = 0;
	const char *resume = mtb_cli_get(opts, "resume");
	const char *operator_name = mtb_cli_get(opts, "operator");
	if (!operator_name)
		operator_name = plan->operator_name[0] ? plan->operator_name : getenv("USER");
	if (resume) {
		snprintf(sid, sizeof sid, "%s", resume);
		first_point = mtb_records_session_resume(rec, sid, &eb);
		if (first_point < 0) {
			mtb_records_close(rec);
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --resume: %s", CMD, eb.msg);
		}
		fprintf(stderr, "resuming session %s at point %d of %d\n", sid, first_point + 1, plan->n_points);
	} else {
		char *plan_text = slurp(plan_path), *ref_text = slurp(ref_path);
		char valid_until[11];
		mtb_date_format(ref->cert_valid_until_day, valid_until);
		struct mtb_session_info info = {
			.plan_name = plan->name, .plan_text = plan_text, .bench_name = cfg->name,
			.standard = plan->rules->title, .rule_set = plan->rules->name, .mode = mtb_plan_mode_name(plan->mode),
			.reading = mode == MTB_READING_MANUAL ? "manual" : "camera", .operator_name = operator_name,
			.reference_name = ref->name, .reference_serial = ref->serial, .cert_number = ref->cert_number,
			.cert_valid_until = valid_until, .reference_yaml = ref_text,
			.jurisdiction = plan->mode == MTB_PLAN_VERIFICATION ? NULL : juris.name,
			.customer = plan->customer[0] ? plan->customer : NULL, .utility = plan->utility[0] ? plan->utility : NULL,
			.case_number = plan->case_number[0] ? plan->case_number : NULL, .started_unix_s = (int64_t)time(NULL),
		};
		struct mtb_meter_record meters[MTB_PLAN_MAX_METERS];
		for (int i = 0; i < plan->n_meters; i++)
			meters[i] = (struct mtb_meter_record){ plan->meters[i].position, plan->meters[i].serial, plan->type.name };
		rc = mtb_records_session_begin(rec, &info, meters, plan->n_meters, sid, &eb);
		free(plan_text);
		free(ref_text);
		if (rc != MTB_OK) {
			mtb_records_close(rec);
			return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s", CMD, eb.msg);
		}
		fprintf(stderr, "session %s: %s, %d meters, %d points, records in %s\n", sid, plan->name, plan->n_meters,
			plan->n_points, db_path);
	}

	struct mtb_log log = { mtb_log_sink_stderr, NULL, MTB_LOG_WARN };
	struct mtb_bench_io_hal *hio = NULL;
	struct mtb_dial_reader *dr = NULL;
	struct mtb_bench_io_hal_opts ho = { .lockstep = lockstep, .pace = pace, .log = &log };
	rc = mtb_bench_io_hal_create(&hio, cfg, &ho, &eb);
	int positions[MTB_PLAN_MAX_METERS];
	for (int i = 0; i < plan->n_meters; i++)
		positions[i] = plan->meters[i].position;
	if (rc == MTB_OK) {
		rc = mtb_dial_reader_create(&dr, cfg, positions, plan->n_meters, plan->type.register_layout, hio, &log, &eb);
	}
	if (rc != MTB_OK) {
		mtb_bench_io_hal_destroy(hio);
		mtb_records_close(rec);
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s", CMD, eb.msg);
	}
	struct term term = { .quiet = mtb_cli_get(opts, "quiet") != NULL, .last_state = -1,
			     .rec = rec, .sid = sid, .dr = dr, .type_name = plan->type.name };
	const char *live_at = mtb_cli_get(opts, "live");
	if (live_at) {
		struct mtb_live_opts lo = { .max_viewers = (int)viewers, .n_cameras = 0, .operator_token = getenv("MTB_OPERATOR_TOKEN"), .log = &log };
		for (int i = 0; i < plan->n_meters; i++)
			lo.n_cameras = plan->meters[i].position > lo.n_cameras ? plan->meters[i].position : lo.n_cameras;
		struct mtb_session_view *v = NULL;
		if (mtb_live_create(&term.live, live_at, &lo, &eb) != MTB_OK ||
		    mtb_records_session_load(rec, sid, &v, &eb) != MTB_OK) {
			free(v);
			mtb_live_destroy(term.live);
			mtb_dial_reader_destroy(dr);
			mtb_bench_io_hal_destroy(hio);
			mtb_records_close(rec);
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --live: %s", CMD, eb.msg);
		}
		char *ev = mtb_live_json_session(v);
		if (ev)
			mtb_live_event(term.live, ev);
		free(ev);
		free(v);
		mtb_live_set_control(term.live, mtb_live_control_abort_flag, &abort_flag);
		mtb_bench_io_hal_set_dial_reader(hio, read_dial_live, &term);
		term.positions = positions;
		term.n_positions = plan->n_meters;
		char host[64] = "127.0.0.1";
		const char *colon = strrchr(live_at, ':');
		if (colon && colon - live_at < (long)sizeof host && colon > live_at)
			snprintf(host, sizeof host, "%.*s", (int)(colon - live_at), live_at);
		if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "localhost") == 0)
			snprintf(host, sizeof host, "127.0.0.1");
		fprintf(stderr, "live view: http://%s:%d/\n", host, mtb_live_port(term.live));
	} else {
		mtb_bench_io_hal_set_dial_reader(hio, mtb_dial_reader_read, dr);
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	struct mtb_run_opts ro = {
		.plan = plan, .reference = ref, .in_service = &juris, .reading = mode, .records = rec, .session_id = sid,
		.first_point = first_point, .abort_flag = &abort_flag, .log = &log, .progress = progress,
		.progress_user = &term, .manual_seed = 1,
	};
	mtb_run_params_default(&ro.params);
	struct mtb_bench_io io = mtb_bench_io_hal_port(hio);
	struct mtb_run_summary sum;
	rc = mtb_run_execute(&io, &ro, &sum, &eb);
	mtb_dial_reader_destroy(dr);
	mtb_bench_io_hal_destroy(hio);

	/* Bench time of this invocation; a resumed session adds to what was recorded before. */
	if (mtb_records_session_finish(rec, sid, rc == MTB_OK ? "complete" : "aborted", sum.bench_time_s, &eb) != MTB_OK)
		fprintf(stderr, "meterbench: %s: %s\n", CMD, eb.msg);
	struct mtb_session_view *view = NULL;
	int vrc = mtb_records_session_load(rec, sid, &view, &eb);
	mtb_records_close(rec);
	if (vrc == MTB_OK && mtb_report_write_all(view, out, &eb) == MTB_OK && rc == MTB_OK)
		print_summary(view, out);
	fflush(stdout);   /* with --live the process goes on serving: the summary is due now */
	if (term.live) {
		if (vrc == MTB_OK) {
			char pdf[1200];
			snprintf(pdf, sizeof pdf, "%s/%s", out, strcmp(view->mode, "dispute") == 0 ? "report-customer.pdf" : "report.pdf");
			mtb_live_set_report(term.live, pdf);
			char *ev = mtb_live_json_verdict(view);
			if (ev)
				mtb_live_event(term.live, ev);
			free(ev);
		}
		/* The verdict stays on the customer's screen until the operator ends the session. */
		if (!interrupted) {
			fprintf(stderr, "live view: the run is over; serving the verdict until Ctrl-C\n");
			/* polled: the signal may be handled on one of the server's threads, which
			 * would leave this one in pause() */
			while (!interrupted) {
				struct timespec ts = { 0, 200000000 };
				nanosleep(&ts, NULL);
			}
		}
		mtb_live_destroy(term.live);
	}
	free(view);
	int n_points = plan->n_points;
	mtb_bench_cfg_destroy(cfg);
	free(plan);
	free(ref);
	if (rc != MTB_OK)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: aborted after %d of %d points: %s (resume with --resume %s)", CMD,
				     sum.points_done, n_points, sum.reason, sid);
	return MTB_EXIT_OK;
}
