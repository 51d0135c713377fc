/* meterbench bench: the verification run as an explicit state machine.
 *
 *   PURGE -> for each point: SET_FLOW -> STABILISE -> START -> RUN -> STOP -> READ -> JUDGE
 *         -> COMMIT -> next point -> DONE
 *
 * Any state can go to ABORTED (abort flag, device failure, flow that will not settle); the bench
 * is then put in its safe state. Each point is committed to the records, with everything it
 * stands on, before the next one starts, so a run killed at any moment can resume at the point
 * in progress. The sequencer decides; it acts through a bench port (bench/bench_io.h). */
#ifndef MTB_BENCH_SEQUENCER_H
#define MTB_BENCH_SEQUENCER_H

#include "bench/bench_io.h"
#include "bench/pid.h"
#include "bench/plan.h"
#include "bench/records.h"
#include "calibration/mpe.h"
#include "calibration/reference.h"
#include "core/err.h"
#include "core/log.h"


#ifdef __cplusplus
extern "C" {
#endif

enum mtb_run_state {
	MTB_RUN_IDLE = 0, MTB_RUN_PURGE, MTB_RUN_SET_FLOW, MTB_RUN_STABILISE, MTB_RUN_START, MTB_RUN_RUN,
	MTB_RUN_STOP, MTB_RUN_READ, MTB_RUN_JUDGE, MTB_RUN_COMMIT, MTB_RUN_DONE, MTB_RUN_ABORTED,
};
const char *mtb_run_state_name(enum mtb_run_state s);

enum mtb_reading_mode { MTB_READING_CAMERA = 0, MTB_READING_MANUAL };

/* Procedure parameters. Defaults (mtb_run_params_default) are engineering choices documented in
 * docs/procedure.md; the flow-stability bands are R 49-2's as recalled ([U]). */
struct mtb_run_params {
	double purge_s;              /* high flow before the first point, to drive air out */
	double purge_valve_pct;
	double pump_hz;              /* pump frequency during the points */
	double sample_period_s;      /* reference sampling and control period */
	double stab_window_s;        /* the flow must stay in band this long before a start */
	int32_t stab_tol_lower_ppm;  /* band below Q2: +-2.5 % */
	int32_t stab_tol_upper_ppm;  /* band from Q2: +-5 % */
	double stab_timeout_s;       /* give up on a flow that will not settle */
	int frames;                  /* readable frames wanted per dial reading (flying start and stop) */
	int max_frames;              /* frames taken at most to get them (refused ones are retaken) */
	double max_plausible_error;  /* |E| above this (0.5 = 50 %) is a misread: the point is invalid */
	double sync_u_s;             /* half-width of the timing uncertainty of a frame's timestamp */
	double temp_u_k;             /* half-width of the uncertainty of t_MUT - t_ref */
	double ref_repeat_u;         /* standard uncertainty of the reference's repeatability, fraction */
	double manual_read_s;        /* manual reading: seconds per meter per reading */
	double settle_s;             /* standing start: wait for the flow to stop before reading */
	double ramp_u_of_mpe;        /* standing start: the test volume is made large enough that the
				      * ramps' term of U stays within this share of the MPE (0.1) */
	struct mtb_pid_gains { double kp, ti_s, td_s; } pid;
};
void mtb_run_params_default(struct mtb_run_params *p);

struct mtb_run_progress {
	enum mtb_run_state state;
	int point_index, n_points;
	const char *point_name;
	double flow_lph, target_lph;
	double volume_l, target_volume_l;   /* reference volume of the current test so far, and its goal */
	double bench_time_s;
	int meters_read, meters_total;      /* after READ */
};

struct mtb_run_opts {
	const struct mtb_plan *plan;
	const struct mtb_reference *reference;
	const struct mtb_in_service *in_service;   /* limits for in-service and dispute plans */
	enum mtb_reading_mode reading;
	struct mtb_run_params params;
	struct mtb_records *records;
	const char *session_id;                    /* an open session of records */
	int first_point;                           /* 0, or the points already recorded when resuming */
	const int *abort_flag;                     /* set non-zero (atomically) to abort; may be NULL */
	const struct mtb_log *log;
	void (*progress)(void *user, const struct mtb_run_progress *p);
	void *progress_user;
	/* Seed for the modelled technician of --reading manual (the only randomness of a run). */
	uint64_t manual_seed;
};

struct mtb_run_summary {
	enum mtb_run_state final_state;     /* DONE or ABORTED */
	double bench_time_s;                /* first valve command to last reading */
	int points_done;
	char reason[256];                   /* why it aborted */
};

/* Runs the plan's points from opts->first_point. MTB_OK when every point was recorded (whatever
 * the verdicts); otherwise the run aborted: the bench is in its safe state, reason says why. */
int mtb_run_execute(const struct mtb_bench_io *io, const struct mtb_run_opts *opts, struct mtb_run_summary *out,
		    struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
