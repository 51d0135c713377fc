/* A live dispute appraisal for the browser test and the live-view benchmark: the sequencer runs
 * the dispute-example plan against an in-process bench with known truth (as in
 * tests/bench/test_sequencer.cpp), paced at SPEED times real time, while the live view publishes
 * it the way `meterbench run --live` does: progress as state and flow, each committed point's
 * readings and results, each dial frame (rendered by the simulator's dial renderer at the meter's
 * indicated volume) as the camera, and the verdict at the end.
 *
 * usage: mtb_live_session DIR SPEED [LINGER_S] [--no-live]   (SPEED 0: as fast as it goes)
 * MTB_LIVE_SESSION_WAIT_S=S waits S seconds after printing the address before the run starts.
 * Writes DIR/records.sqlite and DIR/report-*.pdf, prints the page's address (or "no-live") on
 * stdout, then on the last line {"bench_time_s":...,"wall_s":...,"points":...}. */
#include "bench/live.h"
#include "bench/report.h"
#include "bench/sequencer.h"
#include "core/config.h"
#include "sim/dial_render.h"
#include "vision/layout.h"
#include "vision/vision.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace {
struct Bench {
	int64_t t_us = 0;
	bool inlet = false;
	double valve = 0, pump_hz = 0, flow = 0, true_ul = 0;
	std::vector<double> meter_ul;
	double err_q1 = -0.062, err_q3 = 0.011;   /* the disputed meter under-registers at low flow */
	double ref_err = 0.0005;
	double speed = 1;
	struct mtb_live *live = nullptr;
	struct mtb_layout layout;
	int64_t next_frame_wall_us = 0, wall0_us = 0;
	static int64_t wall_us()
	{
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	}

	double err(double q) const
	{
		double f = (std::log10(q) - std::log10(15.625)) / (std::log10(2500) - std::log10(15.625));
		f = f < 0 ? 0 : f > 1 ? 1 : f;
		return err_q1 + f * (err_q3 - err_q1);
	}
	void frame(int pos, bool with_value)
	{
		if (!live)
			return;
		struct mtb_dial_render_opts o = {};
		o.width_px = 480;
		o.height_px = 480;
		o.style = 0;
		o.seed = 7 + (uint64_t)t_us;
		struct mtb_image *img;
		struct mtb_errbuf eb;
		if (mtb_dial_render(&layout, (int64_t)meter_ul[pos - 1], &o, &img, nullptr, &eb) != MTB_OK)
			return;
		unsigned char *jpg;
		size_t len;
		if (mtb_image_encode_jpeg(img, 85, &jpg, &len, &eb) == MTB_OK) {
			if (with_value)
				mtb_live_frame_reading(live, pos, "dn15-r160-c2", jpg, len, (int64_t)meter_ul[pos - 1]);
			else
				mtb_live_frame(live, pos, jpg, len, nullptr);
			free(jpg);
		}
		mtb_image_destroy(img);
	}
	void advance(int64_t dt_us)
	{
		const int64_t step = 10000;
		for (int64_t t = 0; t < dt_us; t += step) {
			double dt = std::min<int64_t>(step, dt_us - t) / 1e6;
			double target = (!inlet || pump_hz <= 0 || valve <= 0) ? 0 : 3125.0 * std::pow(500.0, valve / 100 - 1);
			flow += (target - flow) * std::min(1.0, dt / 1.0);
			double dv = flow / 3600.0 * dt * 1e6;
			true_ul += dv;
			for (double &m : meter_ul)
				m += dv * (1 + err(flow > 1 ? flow : 1));
		}
		t_us += dt_us;
		/* paced against the wall clock: bench time t_us is due at wall0 + t_us / speed */
		int64_t now = wall_us();
		if (wall0_us == 0)
			wall0_us = now - (int64_t)(t_us / speed);
		if (speed > 0) {
			int64_t due = wall0_us + (int64_t)(t_us / speed);
			if (due - now > 1000) {
				struct timespec ts = { (time_t)((due - now) / 1000000), (long)((due - now) % 1000000) * 1000 };
				nanosleep(&ts, nullptr);
			}
		}
		/* the camera between readings: the dial turning, ten frames a second of wall time */
		if (live && now >= next_frame_wall_us) {
			next_frame_wall_us = now + 100000;
			frame(1, false);
		}
	}
};

Bench *B(void *c) { return static_cast<Bench *>(c); }

const struct mtb_bench_io_ops OPS = {
	[](void *c) { return B(c)->t_us; },
	[](void *c, int64_t dt) { B(c)->advance(dt); return (int)MTB_OK; },
	[](void *c, bool open) { B(c)->inlet = open; return (int)MTB_OK; },
	[](void *c, double pct) { B(c)->valve = pct; return (int)MTB_OK; },
	[](void *c, double hz) { B(c)->pump_hz = hz; return (int)MTB_OK; },
	[](void *c, struct mtb_ref_obs *o) {
		Bench *b = B(c);
		b->advance(1000);
		o->t_us = b->t_us;
		o->flow_lph = b->flow * (1 + b->ref_err);
		o->totaliser_ul = (int64_t)std::floor(b->true_ul * (1 + b->ref_err));
		o->temp_ref_c = o->temp_out_c = 20.0;
		o->p_in_kpa = o->p_out_kpa = 400;
		return (int)MTB_OK;
	},
	[](void *c, const int *pos, int n, struct mtb_dial_obs *out) {
		Bench *b = B(c);
		for (int i = 0; i < n; i++) {
			b->advance(2000);
			out[i] = {};
			out[i].position = pos[i];
			out[i].t_us = b->t_us;
			const double step_ul = 5000;   /* read to 5 mL, as the sequencer tests do */
			out[i].ok = true;
			out[i].volume_ul = (int64_t)(std::floor(b->meter_ul[pos[i] - 1] / step_ul) * step_ul);
			out[i].confidence = 0.97;
			out[i].resolution_l = 0.005;
			/* the frame the reading came from, kept as evidence */
			struct mtb_dial_render_opts o = {};
			o.width_px = 480;
			o.height_px = 480;
			o.seed = 11 + (uint64_t)b->t_us;
			struct mtb_image *img;
			struct mtb_errbuf eb;
			if (mtb_dial_render(&b->layout, (int64_t)b->meter_ul[pos[i] - 1], &o, &img, nullptr, &eb) == MTB_OK) {
				mtb_image_encode_jpeg(img, 85, &out[i].jpeg, &out[i].jpeg_len, &eb);
				mtb_image_destroy(img);
			}
			if (b->live && out[i].jpeg)
				mtb_live_frame_reading(b->live, pos[i], "dn15-r160-c2", out[i].jpeg, out[i].jpeg_len,
						       out[i].volume_ul);
		}
		return (int)MTB_OK;
	},
	[](void *c) { Bench *b = B(c); b->valve = 0; b->pump_hz = 0; b->inlet = false; return (int)MTB_OK; },
	nullptr,
};

/* What `meterbench run --live` does in its progress callback. */
struct Progress {
	struct mtb_live *live;
	struct mtb_records *rec;
	const char *sid;
	int committing = -1;   /* a point whose COMMIT was announced; it is in the records at the next call */
};

void on_progress(void *user, const struct mtb_run_progress *p)
{
	auto *g = static_cast<Progress *>(user);
	if (!g->live)
		return;
	if (g->committing >= 0 && p->state != MTB_RUN_COMMIT) {
		struct mtb_errbuf eb;
		mtb_live_publish_point(g->live, g->rec, g->sid, g->committing, &eb);
		g->committing = -1;
	}
	if (p->state == MTB_RUN_COMMIT)
		g->committing = p->point_index;
	mtb_live_progress(g->live, p);
}
} // namespace

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: mtb_live_session DIR SPEED [LINGER_S] [--no-live]\n");
		return 2;
	}
	std::string dir = argv[1];
	double speed = atof(argv[2]);
	double linger = argc > 3 ? atof(argv[3]) : 0;
	bool live_on = !(argc > 4 && strcmp(argv[4], "--no-live") == 0);
	struct mtb_errbuf eb = {};
	struct mtb_plan plan;
	struct mtb_reference ref;
	struct mtb_in_service ins;
	char jpath[1024];
	if (mtb_plan_load("dispute-example", &plan, &eb) != MTB_OK || mtb_reference_load("sim-ref-em-dn25", &ref, &eb) != MTB_OK ||
	    mtb_config_find("jurisdictions", plan.jurisdiction, jpath, sizeof jpath, &eb) != MTB_OK ||
	    mtb_in_service_load(jpath, &ins, &eb) != MTB_OK) {
		fprintf(stderr, "mtb_live_session: %s\n", eb.msg);
		return 1;
	}
	for (int i = 0; i < ref.n_points; i++)
		ref.points[i].error = 0.0005;
	Bench bench;
	bench.speed = speed;
	if (mtb_layout_load(plan.type.register_layout, &bench.layout, &eb) != MTB_OK) {
		fprintf(stderr, "mtb_live_session: %s\n", eb.msg);
		return 1;
	}
	for (int m = 0; m < plan.n_meters; m++)
		bench.meter_ul.push_back(1e6 * (1234.5 + 37 * m));

	struct mtb_records *rec;
	std::string db = dir + "/records.sqlite";
	if (mtb_records_open(db.c_str(), &rec, &eb) != MTB_OK) {
		fprintf(stderr, "mtb_live_session: %s\n", eb.msg);
		return 1;
	}
	struct mtb_session_info info = {};
	info.plan_name = plan.name;
	info.plan_text = "dispute-example";
	info.bench_name = "in-process test bench";
	info.standard = "OIML R49:2013";
	info.rule_set = "r49-2013";
	info.mode = "dispute";
	info.reading = "camera";
	info.operator_name = "lab";
	info.reference_name = ref.name;
	info.reference_serial = ref.serial;
	info.cert_number = ref.cert_number;
	char until[16];
	time_t vu = (time_t)ref.cert_valid_until_day * 86400;
	struct tm tmv;
	strftime(until, sizeof until, "%Y-%m-%d", gmtime_r(&vu, &tmv));
	info.cert_valid_until = until;
	info.jurisdiction = plan.jurisdiction;
	info.customer = plan.customer;
	info.utility = plan.utility;
	info.case_number = plan.case_number;
	info.started_unix_s = (int64_t)time(nullptr);
	std::vector<struct mtb_meter_record> mr;
	for (int m = 0; m < plan.n_meters; m++)
		mr.push_back({ plan.meters[m].position, plan.meters[m].serial, plan.type.name });
	char sid[MTB_SESSION_ID_LEN + 1];
	if (mtb_records_session_begin(rec, &info, mr.data(), plan.n_meters, sid, &eb) != MTB_OK) {
		fprintf(stderr, "mtb_live_session: %s\n", eb.msg);
		return 1;
	}

	struct mtb_live *live = nullptr;
	if (live_on) {
		struct mtb_live_opts lo = {};
		lo.n_cameras = plan.n_meters;
		lo.max_viewers = 64;
		lo.operator_token = getenv("MTB_LIVE_TOKEN");
		if (mtb_live_create(&live, "127.0.0.1:0", &lo, &eb) != MTB_OK) {
			fprintf(stderr, "mtb_live_session: %s\n", eb.msg);
			return 1;
		}
		printf("http://127.0.0.1:%d/\n", mtb_live_port(live));
		struct mtb_session_view *v;
		if (mtb_records_session_load(rec, sid, &v, &eb) == MTB_OK) {
			char *j = mtb_live_json_session(v);
			if (mtb_live_event(live, j) != MTB_OK)
				fprintf(stderr, "mtb_live_session: session event refused: %s\n", j);
			free(j);
			free(v);
		}
	} else {
		printf("no-live\n");
	}
	fflush(stdout);
	/* time for viewers to attach before the run starts (the benchmark's) */
	if (const char *w = getenv("MTB_LIVE_SESSION_WAIT_S")) {
		double ws = atof(w);
		struct timespec ts = { (time_t)ws, (long)((ws - (time_t)ws) * 1e9) };
		nanosleep(&ts, nullptr);
	}
	bench.live = live;
	bench.frame(1, false);

	Progress prog = { live, rec, sid };
	struct mtb_run_opts o = {};
	o.plan = &plan;
	o.reference = &ref;
	o.in_service = &ins;
	o.reading = MTB_READING_CAMERA;
	mtb_run_params_default(&o.params);
	o.params.purge_s = 10;
	o.records = rec;
	o.session_id = sid;
	o.progress = on_progress;
	o.progress_user = &prog;
	struct mtb_bench_io io = { &OPS, &bench };
	struct mtb_run_summary sum;
	struct timespec w0, w1;
	clock_gettime(CLOCK_MONOTONIC, &w0);
	int rc = mtb_run_execute(&io, &o, &sum, &eb);
	clock_gettime(CLOCK_MONOTONIC, &w1);
	if (rc != MTB_OK)
		fprintf(stderr, "mtb_live_session: run: %s %s\n", eb.msg, sum.reason);
	mtb_records_session_finish(rec, sid, rc == MTB_OK ? "complete" : "aborted", sum.bench_time_s, &eb);
	struct mtb_session_view *v;
	if (mtb_records_session_load(rec, sid, &v, &eb) == MTB_OK) {
		if (mtb_report_write_all(v, dir.c_str(), &eb) == MTB_OK && live)
			mtb_live_set_report(live, (dir + "/report-customer.pdf").c_str());
		if (live) {
			char *j = mtb_live_json_verdict(v);
			mtb_live_event(live, j);
			free(j);
		}
		free(v);
	}
	printf("{\"bench_time_s\":%.3f,\"wall_s\":%.3f,\"points\":%d}\n", sum.bench_time_s,
	       (w1.tv_sec - w0.tv_sec) + (w1.tv_nsec - w0.tv_nsec) / 1e9, sum.points_done);
	fflush(stdout);
	if (linger > 0) {
		struct timespec ts = { (time_t)linger, (long)((linger - (time_t)linger) * 1e9) };
		nanosleep(&ts, nullptr);
	}
	mtb_live_destroy(live);
	mtb_records_close(rec);
	return rc == MTB_OK ? 0 : 1;
}
