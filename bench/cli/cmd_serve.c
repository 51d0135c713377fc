/* meterbench serve: the live view of a recorded session, replayed from its records. */
#include "cli.h"
#include "commands.h"

#include "bench/live.h"
#include "bench/report.h"

#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CMD "serve"

const char MTB_CMD_SERVE_USAGE[] =
	"usage: meterbench serve --db FILE [--session ID] [--listen HOST:PORT] [--speed X]\n"
	"                        [--max-viewers N] [--public-url URL] [--static DIR] [--exit-after-s S]\n"
	"\n"
	"Serves the live view (docs/live-view.md) of a recorded session, by default the newest, and\n"
	"replays it: its reference samples as flow and volume, its dial readings with the images they\n"
	"were read from as the camera streams, each point's error against its limit, and the verdict,\n"
	"in recorded order at X times bench time (default 10; pauses longer than 2 s are shortened).\n"
	"The customer's copy of the report is written from the same records and served at\n"
	"/report/customer.pdf. Listens on 127.0.0.1:8080 unless told otherwise; runs until\n"
	"interrupted, or S seconds after the replay ended. Prints the page's address on stdout.\n";

struct replay {
	struct mtb_live *live;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	atomic_bool stop;
	sigset_t set;
};

static void *signal_thread(void *arg)
{
	struct replay *rp = arg;
	int sig;
	sigwait(&rp->set, &sig);
	pthread_mutex_lock(&rp->mu);
	atomic_store(&rp->stop, true);
	pthread_cond_broadcast(&rp->cond);
	pthread_mutex_unlock(&rp->mu);
	return NULL;
}

/* Waits dt_us of wall time, or less when stopped; false once stopped. */
static bool pause_us(struct replay *rp, int64_t dt_us)
{
	if (dt_us > 0) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)(dt_us / 1000000);
		until.tv_nsec += (long)(dt_us % 1000000) * 1000;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&rp->mu);
		while (!atomic_load(&rp->stop) && pthread_cond_timedwait(&rp->cond, &rp->mu, &until) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&rp->mu);
	}
	return !atomic_load(&rp->stop);
}

static void emit(struct replay *rp, char *json)
{
	if (json)
		mtb_live_event(rp->live, json);
	free(json);
}

static void state(struct replay *rp, enum mtb_run_state s, int idx, int n, const char *name, double target_lph,
		  double target_l, double bench_s)
{
	struct mtb_run_progress p = { .state = s, .point_index = idx, .n_points = n, .point_name = name,
				      .target_lph = target_lph, .target_volume_l = target_l, .bench_time_s = bench_s };
	emit(rp, mtb_live_json_state(&p));
}

static const struct mtb_meter_view *meter_at(const struct mtb_session_view *s, int pos)
{
	for (int i = 0; i < s->n_meters; i++)
		if (s->meters[i].position == pos)
			return &s->meters[i];
	return NULL;
}

/* One point, as it happened (mtb_live_replay_point): paced at `speed` times bench time, each
 * reading's own evidence image published right after it. Returns false when interrupted. */
static bool replay_point(struct replay *rp, struct mtb_records *r, const struct mtb_session_view *s, int idx,
			 int n_points, double speed, double *bench_s)
{
	struct mtb_errbuf eb;
	struct mtb_live_step *st;
	int n;
	if (mtb_live_replay_point(r, s, idx, n_points, *bench_s, &st, &n, &eb) != MTB_OK) {
		fprintf(stderr, "meterbench: " CMD ": point %d not replayed: %s\n", idx + 1, eb.msg);
		return true;
	}
	bool ok = true;
	for (int i = 0; ok && i < n; i++) {
		int64_t dt_bench = i ? st[i].t_us - st[i - 1].t_us : 0;
		int64_t dt = (int64_t)((double)dt_bench / speed);
		ok = pause_us(rp, dt > 2000000 ? 2000000 : dt);
		*bench_s += (double)dt_bench / 1e6;
		if (!ok)
			break;
		if (st[i].kind == MTB_LIVE_STEP_EVENT) {
			mtb_live_event(rp->live, st[i].json);
			continue;
		}
		unsigned char *jpg;
		size_t len;
		char mime[64];
		const struct mtb_meter_view *m = meter_at(s, st[i].position);
		if (m && mtb_records_evidence_get(r, st[i].image_sha256, &jpg, &len, mime, &eb) == MTB_OK) {
			mtb_live_frame_reading(rp->live, st[i].position, m->type_name, jpg, len, st[i].volume_ul);
			free(jpg);
		}
	}
	mtb_live_steps_free(st, n);
	return ok && pause_us(rp, (int64_t)(1e6 / speed));
}

int mtb_cmd_serve(int argc, char **argv)
{
	struct mtb_cli_opt opts[] = { { "db", true, 0 }, { "session", true, 0 }, { "listen", true, 0 },
				      { "speed", true, 0 }, { "max-viewers", true, 0 }, { "public-url", true, 0 },
				      { "static", true, 0 }, { "exit-after-s", true, 0 }, { 0 } };
	const char *pos[1];
	int n_pos, rc;
	if ((rc = mtb_cli_parse(CMD, argc, argv, opts, pos, 0, &n_pos)) != 0)
		return rc;
	const char *db = mtb_cli_get(opts, "db");
	const char *listen = mtb_cli_get(opts, "listen");
	if (!db)
		return mtb_cli_error(MTB_EXIT_USAGE, CMD ": missing --db");
	if (access(db, R_OK) != 0)
		return mtb_cli_error(MTB_EXIT_USAGE, CMD ": --db: cannot read '%s'", db);
	double speed = 10, viewers = 32, exit_after = -1;
	const char *v;
	if ((v = mtb_cli_get(opts, "speed")) && (rc = mtb_cli_double(CMD, "speed", v, &speed)) != 0)
		return rc;
	if (!(speed > 0 && speed <= 1e6))
		return mtb_cli_error(MTB_EXIT_USAGE, CMD ": --speed: must be > 0");
	if ((v = mtb_cli_get(opts, "max-viewers")) && (rc = mtb_cli_double(CMD, "max-viewers", v, &viewers)) != 0)
		return rc;
	if (!(viewers >= 1 && viewers <= 1000) || viewers != (int)viewers)
		return mtb_cli_error(MTB_EXIT_USAGE, CMD ": --max-viewers: a whole number from 1 to 1000");
	if ((v = mtb_cli_get(opts, "exit-after-s")) && (rc = mtb_cli_double(CMD, "exit-after-s", v, &exit_after)) != 0)
		return rc;

	struct mtb_records *r;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_records_open(db, &r, &eb) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, CMD ": %s", eb.msg);
	char id[MTB_SESSION_ID_LEN + 1];
	const char *sid = mtb_cli_get(opts, "session");
	if (!sid) {
		if (mtb_records_last_session(r, id, &eb) != MTB_OK) {
			mtb_records_close(r);
			return mtb_cli_error(MTB_EXIT_USAGE, CMD ": %s: %s", db, eb.msg);
		}
		sid = id;
	}
	struct mtb_session_view *s;
	if ((rc = mtb_records_session_load(r, sid, &s, &eb)) != MTB_OK) {
		mtb_records_close(r);
		return mtb_cli_error(rc == MTB_ERR_NOTFOUND ? MTB_EXIT_USAGE : MTB_EXIT_FAIL, CMD ": --session: %s", eb.msg);
	}

	/* The reports, from the same records, into a folder of our own. */
	char dir[] = "/tmp/meterbench-serve-XXXXXX";
	if (!mkdtemp(dir)) {
		free(s);
		mtb_records_close(r);
		return mtb_cli_error(MTB_EXIT_FAIL, CMD ": cannot make a folder for the report: %s", strerror(errno));
	}
	char pdf[sizeof dir + 32];
	bool have_report = mtb_report_write_all(s, dir, &eb) == MTB_OK;
	if (!have_report)
		fprintf(stderr, "meterbench: " CMD ": report not served: %s\n", eb.msg);
	snprintf(pdf, sizeof pdf, "%s/%s", dir, strcmp(s->mode, "dispute") == 0 ? "report-customer.pdf" : "report.pdf");

	struct replay rp = { 0 };
	pthread_mutex_init(&rp.mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rp.cond, &ca);
	pthread_condattr_destroy(&ca);
	sigemptyset(&rp.set);
	sigaddset(&rp.set, SIGINT);
	sigaddset(&rp.set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &rp.set, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct mtb_log log = { .sink = mtb_log_sink_stderr, .max_level = MTB_LOG_WARN };
	struct mtb_live_opts lo = { .max_viewers = (int)viewers, .n_cameras = s->n_meters, .log = &log,
				    .public_url = mtb_cli_get(opts, "public-url"), .static_dir = mtb_cli_get(opts, "static") };
	if (s->n_meters > MTB_LIVE_MAX_CAMERAS)
		lo.n_cameras = MTB_LIVE_MAX_CAMERAS;
	rc = mtb_live_create(&rp.live, listen ? listen : "127.0.0.1:8080", &lo, &eb);
	if (rc != MTB_OK) {
		free(s);
		mtb_records_close(r);
		return mtb_cli_error(rc == MTB_ERR_ARG ? MTB_EXIT_USAGE : MTB_EXIT_FAIL, CMD ": --listen: %s", eb.msg);
	}
	pthread_t th;
	pthread_create(&th, NULL, signal_thread, &rp);
	char host[64] = "127.0.0.1";
	if (listen && strchr(listen, ':') && strchr(listen, ':') - listen < (long)sizeof host) {
		snprintf(host, sizeof host, "%.*s", (int)(strchr(listen, ':') - listen), listen);
		if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "localhost") == 0)
			snprintf(host, sizeof host, "127.0.0.1");
	}
	printf("http://%s:%d/\n", host, mtb_live_port(rp.live));
	fflush(stdout);

	emit(&rp, mtb_live_json_session(s));
	int n_points = 0;
	for (int i = 0; i < s->n_meters; i++)
		n_points = s->meters[i].n_points > n_points ? s->meters[i].n_points : n_points;
	double bench_s = 0;
	bool ok = true;
	for (int idx = 0; ok && idx < n_points; idx++)
		ok = replay_point(&rp, r, s, idx, n_points, speed, &bench_s);
	if (ok) {
		state(&rp, strcmp(s->status, "aborted") == 0 ? MTB_RUN_ABORTED : MTB_RUN_DONE, n_points, n_points, "",
		      0, 0, s->bench_time_s >= 0 ? s->bench_time_s : bench_s);
		if (have_report)
			mtb_live_set_report(rp.live, pdf);
		emit(&rp, mtb_live_json_verdict(s));
		if (exit_after >= 0)
			pause_us(&rp, (int64_t)(exit_after * 1e6));
		else
			while (pause_us(&rp, 3600 * 1000000LL))
				;
	}
	mtb_live_destroy(rp.live);
	if (!atomic_load(&rp.stop))
		pthread_kill(th, SIGTERM);
	pthread_join(th, NULL);
	pthread_mutex_destroy(&rp.mu);
	pthread_cond_destroy(&rp.cond);
	mtb_records_close(r);
	free(s);
	/* the reports written for serving */
	static const char *const files[] = { "results.json", "results.csv", "report.pdf", "report-customer.pdf",
					     "report-utility.pdf" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char p[sizeof dir + 32];
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
	return MTB_EXIT_OK;
}
