/* meterbench bench: the live view of a run (docs/live-view.md).
 *
 * An HTTP server (civetweb) that shows a run to people watching it, typically a customer in a
 * dispute appraisal: GET / (the page), /static/<file> (its scripts and styles), /fonts/<file>
 * (locally installed fonts), /events (server-sent events, one JSON object each),
 * /camera/<position>.mjpeg (each meter's camera, the value read drawn over the region it was
 * read from), /report/customer.pdf (the customer's copy, once written) and /qr.svg (a QR code of
 * that copy's address). POST /control/<action> needs "Authorization: Bearer <operator token>".
 *
 * The run never waits for a viewer: mtb_live_event and mtb_live_frame copy their input and
 * return. Every viewer has its own bounded event queue; a viewer that falls so far behind that
 * its queue would overflow is disconnected (its browser reconnects and is sent the history
 * again) rather than shown a gap. Camera frames are a latest-frame slot per camera: a slow viewer
 * skips frames. The number of concurrent streams (events and cameras) is capped. */
#ifndef MTB_BENCH_LIVE_H
#define MTB_BENCH_LIVE_H

#include "bench/can_procedure.h"
#include "bench/records.h"
#include "bench/sequencer.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_live;

#define MTB_LIVE_MAX_CAMERAS 32

struct mtb_live_opts {
	int max_viewers;             /* concurrent streams (/events and cameras); 0: 16 */
	int event_queue_len;         /* per viewer; 0: 1024 */
	int history_len;             /* events kept for late viewers; 0: 4096 */
	int n_cameras;               /* positions 1..n_cameras have a camera stream; 0: none */
	int flow_period_ms;          /* mtb_live_progress sends flow at most this often; 0: 200 */
	const char *operator_token;  /* NULL or "": every control request is refused */
	const char *static_dir;      /* index.html, live.css, live.js; NULL: bench/live of the source tree */
	const char *public_url;      /* base address for the QR code ("http://10.0.0.5:8080"); NULL: the
				      * Host header of the request */
	int request_timeout_ms;      /* a viewer that accepts nothing this long is dropped; 0: 10000 */
	const struct mtb_log *log;   /* may be NULL */
	const struct mtb_clock *clock;  /* paces flow events; NULL: the system's monotonic clock */
};

/* Starts serving on listen "HOST:PORT" (port 0: any free port, see mtb_live_port). A bare
 * "PORT" binds to 127.0.0.1: the live view is exposed beyond the bench only when asked. */
int mtb_live_create(struct mtb_live **out, const char *listen, const struct mtb_live_opts *opts,
		    struct mtb_errbuf *eb);
/* Ends every stream and stops the server; NULL is a no-op. */
void mtb_live_destroy(struct mtb_live *live);
int mtb_live_port(const struct mtb_live *live);

/* Publishes one event: a JSON object on one line with a "type" member (docs/live-view.md). The
 * text is copied; thread-safe; never blocks on a viewer. MTB_ERR_ARG for text that is not one
 * line starting with '{'. */
int mtb_live_event(struct mtb_live *live, const char *json_object);

/* The value read drawn over the region it was read from, pixels of the frame. */
struct mtb_live_overlay {
	char text[64];
	int x_px, y_px, w_px, h_px;  /* w_px == 0: text only, at the top left */
	bool label_top;              /* the text at the top left even with a region (so that it hides
				      * nothing around the region: a neck's scale lines) */
};

/* Publishes camera `position`'s latest frame (JPEG, copied) with an optional overlay. The
 * overlay is drawn (decode, draw, encode) by the first viewer's thread that needs it, never by
 * the caller. */
int mtb_live_frame(struct mtb_live *live, int position, const void *jpeg, size_t len,
		   const struct mtb_live_overlay *overlay);

/* Publishes a kept frame of a dial reading of a meter of type `type_name`: the value read
 * (volume_ul < 0: "no reading") drawn over the register's region of the type's layout, placed
 * by the cameras' nominal framing (docs/live-view.md). Without a usable layout, the value is drawn
 * at the top left. */
int mtb_live_frame_reading(struct mtb_live *live, int position, const char *type_name, const void *jpeg,
			   size_t len, int64_t volume_ul);

/* Operator actions (POST /control/<action>, action [a-z-]{1,31}). The callback runs on a server
 * thread; it returns MTB_OK, or MTB_ERR_NOTSUP for an unknown action (HTTP 404), or another
 * error (HTTP 409). Without a callback every action answers 503. */
typedef int (*mtb_live_control_fn)(void *user, const char *action);
void mtb_live_set_control(struct mtb_live *live, mtb_live_control_fn fn, void *user);
/* A control callback for a run: "abort" sets the int that user points to (atomically), which
 * the run polls; any other action is unknown. */
int mtb_live_control_abort_flag(void *user, const char *action);

/* The customer's copy of the report, served at /report/customer.pdf once set (the file is read
 * at each request). NULL removes it. */
int mtb_live_set_report(struct mtb_live *live, const char *pdf_path);

/* ---- events from the run's data (all JSON on one line, malloc'd, NULL when out of memory) -- */

/* {"type":"session",...}: id, mode, standard, reference and certificate, the dispute's parties,
 * the meters, which are disputed (every meter of a dispute appraisal). */
char *mtb_live_json_session(const struct mtb_session_view *s);
/* {"type":"state",...} */
char *mtb_live_json_state(const struct mtb_run_progress *p);
/* {"type":"flow",...} */
char *mtb_live_json_flow(const struct mtb_run_progress *p);
/* {"type":"reading",...} of one dial reading of a point. */
char *mtb_live_json_reading(int point_index, const char *point_name, const struct mtb_reading_record *r);
/* {"type":"point",...}: a meter's result at one point, its MPE and expanded uncertainty. */
char *mtb_live_json_point(int position, const struct mtb_point_view *p);
/* {"type":"verdict",...}: every meter's overall verdict; the session's status and bench time. */
char *mtb_live_json_verdict(const struct mtb_session_view *s);

/* The run's progress callback, for `meterbench run`: a state event whenever the state or the
 * point changes, a flow event at most every flow_period_ms (wall clock) in between. */
void mtb_live_progress(struct mtb_live *live, const struct mtb_run_progress *p);

/* Publishes what records hold of one committed point: its readings (reading events, and each
 * meter's end-reading image, or the last it has, as its camera frame with the value drawn over
 * the register) and each meter's result (point events). */
int mtb_live_publish_point(struct mtb_live *live, struct mtb_records *r, const char *session_id,
			   int point_index, struct mtb_errbuf *eb);

/* ---- a measuring-can run (bench/live_can.c; docs/live-view.md "A can run") ------------------ */

struct mtb_live_can_info {
	const char *session_id, *serial, *operator_name, *standard;
	const struct mtb_vessel *vessel;
	int runs, runs_done;          /* planned; already recorded (a resumed session) */
	bool resumed;
};
/* {"type":"can-session",...}: the vessel, its scale and MPE, the runs planned. */
char *mtb_live_json_can_session(const struct mtb_live_can_info *c);
/* {"type":"can-state",...}: the procedure's state (mtb_can_state_name) for run run_index. */
char *mtb_live_json_can_state(const char *state, int run_index, int n_runs, double bench_time_s);

struct mtb_live_balance {
	const char *status;           /* "ok", "silent", "overload", "refused" */
	bool have_mass, stable;
	int64_t mass_mg;
	bool have_water;              /* the water in the vessel, estimated from the mass */
	int64_t water_ul;
	double fill_pct;              /* of the nominal volume */
	bool fill_open, drain_open;   /* the valves as last commanded */
	double bench_time_s;
};
/* {"type":"balance",...}: the balance's reply and the fill state. */
char *mtb_live_json_balance(const struct mtb_live_balance *b);
/* {"type":"meniscus",...}: one neck frame as read (level, the scale's volume there, confidence)
 * or refused (reason). */
char *mtb_live_json_meniscus(int run_index, const struct mtb_meniscus_obs *m, const struct mtb_vessel *v,
			     double bench_time_s);
/* {"type":"can-run",...}: a recorded run: volume at the reference temperature, the scale's
 * volume, error, and U and verdict of that run taken alone (n = 1). */
char *mtb_live_json_can_run(const struct mtb_vessel *v, const struct mtb_can_u_in *u, int run_index,
			    const struct mtb_can_run *run);
/* {"type":"can-result",...}: the series (mean error, U, s, MPE, verdict) or why it aborted. */
char *mtb_live_json_can_result(const struct mtb_vessel *v, const struct mtb_can_result *r, const char *session_id);

/* ---- replaying a recorded session (meterbench serve) ---------------------------------------- */

/* The interval over which a recorded point's reference volume counts: from the start instant to
 * the stop instant, with the reference totaliser at each. For the first of `positions` read at
 * both ends, the median instants of its start and end frames and the medians of the totaliser
 * interpolated at their instants, as the sequencer computes the point (ref_stop_ul - ref_start_ul
 * is the point's raw reference volume); when no meter was read, the first start and end frames. */
struct mtb_live_window {
	int position;                /* the meter whose frames define it; 0: none was read */
	bool read;
	int64_t t_start_us, t_stop_us;
	int64_t ref_start_ul, ref_stop_ul;
};
int mtb_live_point_window(const struct mtb_sample_view *sa, int n_sa, const struct mtb_reading_view *rd, int n_rd,
			  const int *positions, int n_positions, struct mtb_live_window *w);
/* The reference volume of the window at instant t_us: 0 before the start, the totaliser
 * interpolated from the samples minus its start value in between, the stop's value after it. */
int64_t mtb_live_window_volume_ul(const struct mtb_live_window *w, const struct mtb_sample_view *sa, int n_sa,
				  int64_t t_us);

enum mtb_live_step_kind { MTB_LIVE_STEP_EVENT, MTB_LIVE_STEP_FRAME };

/* One step of a replay at recorded instant t_us (bench clock): an event to publish, or the
 * evidence image of the reading published just before it, for that meter's camera. */
struct mtb_live_step {
	enum mtb_live_step_kind kind;
	int64_t t_us;
	char *json;                  /* EVENT */
	int position;                /* FRAME: the meter, the value read (-1: none), the image */
	int64_t volume_ul;
	char image_sha256[65];
};

/* The replay of one recorded point, in recorded time order: state changes, the reference
 * samples as flow events (the volume of mtb_live_window_volume_ul, stopping at the stop
 * instant), each dial reading followed by its own evidence image, then each meter's result.
 * bench_s0: the bench time shown at the point's first step. Free with mtb_live_steps_free. */
int mtb_live_replay_point(struct mtb_records *r, const struct mtb_session_view *s, int point_index, int n_points,
			  double bench_s0, struct mtb_live_step **out, int *n, struct mtb_errbuf *eb);
void mtb_live_steps_free(struct mtb_live_step *v, int n);

#ifdef __cplusplus
}
#endif
#endif
