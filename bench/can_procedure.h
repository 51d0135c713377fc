/* meterbench bench: the gravimetric verification of a measuring can or cylinder, as a state
 * machine over a small port (like bench_io.h for meters).
 *
 * Per run: (to deliver: wet the vessel once -- fill, empty, drain) -> weigh empty (drained) ->
 * fill through the fill valve to the nominal line -> settle  -> weigh full, read the meniscus and
 * the conditions -> (to deliver: empty and drain for the drain time, weigh the drained vessel:
 * that is I_E of this run; to contain: I_E is the dry vessel weighed before the first fill,
 * since the film left by emptying is part of what the vessel contains at the next fill). The volume comes from calibration/gravimetric.h. A balance that
 * goes silent, stays unstable, or reports overload never yields a volume: the run is aborted
 * with the state and the reason, the valves are closed (safe state). */
#ifndef MTB_BENCH_CAN_PROCEDURE_H
#define MTB_BENCH_CAN_PROCEDURE_H

#include "calibration/gravimetric.h"
#include "calibration/vessel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_balance_obs {
	int64_t mass_mg;
	bool stable;
};

struct mtb_can_conditions {
	double water_temp_c;
	double air_temp_c, p_hpa, rh_pct;
};

struct mtb_meniscus_obs {
	bool ok;                 /* false: the reader refused; reason says why */
	double level_div;
	double confidence;
	char reason[128];
	char image_sha256[65];   /* the frame the reading came from, as kept in evidence ("" if none) */
};

/* One step of a fill, for the record. */
enum mtb_can_step_kind {
	MTB_CAN_STEP_COARSE = 0,   /* the coarse fill by mass ended */
	MTB_CAN_STEP_FINE,         /* a short opening by mass, weighed stable */
	MTB_CAN_STEP_TOPUP,        /* the meniscus read below the aim: an opening for the rest */
	MTB_CAN_STEP_STOP,         /* the meniscus read within the tolerance or above the aim: stop */
	MTB_CAN_STEP_UNREAD,       /* the meniscus could not be read: the top-up stops there */
};
const char *mtb_can_step_kind_name(int kind);

struct mtb_can_fill_step {
	int kind;                  /* enum mtb_can_step_kind */
	int64_t t_us;              /* when it ended, bench clock */
	int64_t open_us;           /* how long the fill valve was open (0: a reading, no water) */
	int64_t mass_mg;           /* the balance after it (0 when not weighed) */
	double level_div;          /* the meniscus reading that decided it (NAN for steps by mass) */
	double aim_div;            /* the line aimed at */
};

/* The port. Return MTB_OK or a negative enum mtb_err; MTB_ERR_TIMEOUT from read_balance means
 * the balance did not answer, MTB_ERR_RANGE overload/underload, MTB_ERR_REFUSED busy. */
struct mtb_can_io_ops {
	int64_t (*now_us)(void *ctx);
	int (*wait_us)(void *ctx, int64_t dt_us);
	int (*set_fill)(void *ctx, bool open);    /* water into the vessel */
	int (*set_drain)(void *ctx, bool open);   /* the vessel's outlet (emptying) */
	int (*read_balance)(void *ctx, struct mtb_balance_obs *out);
	int (*read_conditions)(void *ctx, struct mtb_can_conditions *out);
	int (*read_meniscus)(void *ctx, struct mtb_meniscus_obs *out);
	int (*safe_state)(void *ctx);             /* both valves closed */
	/* Optional (NULL: none): a run is complete (full and empty weighed, meniscus and conditions
	 * read) -- where a caller commits it to its records before the next run starts. */
	void (*run_done)(void *ctx, int run_index, const struct mtb_can_run *run);
	/* Optional: the dry vessel (to contain) was weighed before its first fill -- its I_E for
	 * every run, which a caller seals in its records so that a resumed session keeps it. */
	void (*tared)(void *ctx, int64_t dry_mg);
	/* Optional: the procedure enters state (an enum mtb_can_state) for run run_index (0-based;
	 * the run about to be done while recovering, wetting, or weighing before it). */
	void (*state_changed)(void *ctx, int state, int run_index);
	/* Optional (NULL: none): each step of a fill as it ends -- the coarse fill, each short
	 * opening by mass, each meniscus reading of the final top-up and the opening it decided --
	 * where a caller records it with the run. */
	void (*fill_step)(void *ctx, const struct mtb_can_fill_step *step);
};

struct mtb_can_io {
	const struct mtb_can_io_ops *ops;
	void *ctx;
	/* The operator's abort (Ctrl-C, the live view's abort button), or NULL: read after every
	 * wait; once non-zero the run is aborted into the safe state like any other failure. */
	const int *abort_flag;
};

struct mtb_can_plan {
	int runs;                   /* repetitions, 1 ... MTB_CAN_MAX_RUNS */
	double fill_flow_lps;       /* what the fill valve delivers, to schedule the polls */
	double settle_s;            /* after the fill valve closes */
	double stable_timeout_s;    /* a stable balance reading must come within this */
	double poll_s;              /* between balance polls while filling / waiting */
	int meniscus_tries;         /* readings before a refused meniscus aborts the run */
	/* The fill: a coarse fill by mass to coarse_stop_div below the aimed line, then short
	 * openings of the fill valve, each weighed stable, until the mass is within
	 * fill_tolerance_div below the aim's mass at the measured water temperature. The aim is
	 * the nominal line + fill_aim_div (cylinders whose scale ends at the nominal line: 1.5
	 * divisions below the top line). coarse_stop_div 0: no fine approach (mass at 20 C). */
	double fill_aim_div;
	double fill_tolerance_div;
	double coarse_stop_div;
	/* The final top-up, by the meniscus, as a technician does it: after the fill by mass the
	 * meniscus is read and, below the nominal line + fill_aim_div (at most the top line) by
	 * more than topup_tolerance_div, topped up by openings for 70 % of the water the reading
	 * says is missing to the middle of the tolerance band, each weighed stable and read again, until it reads within the tolerance
	 * below the line or above it (then it stops: water is never taken out). 0: no top-up. */
	double topup_tolerance_div;
	struct mtb_can_u_in u;      /* uncertainty inputs (calibration/gravimetric.h) */
};

/* Documented defaults: 3 runs, 0.1 L/s, settle 30 s, stable timeout 20 s, poll 0.5 s, 3 tries,
 * aim at the nominal line within 0.2 division, coarse fill to 2 divisions below it, top-up by
 * the meniscus to within 0.1 division below the line. */
void mtb_can_plan_defaults(struct mtb_can_plan *p);

enum mtb_can_state {
	MTB_CAN_IDLE = 0, MTB_CAN_WET, MTB_CAN_WEIGH_EMPTY, MTB_CAN_FILL, MTB_CAN_SETTLE, MTB_CAN_READ,
	MTB_CAN_DELIVER, MTB_CAN_DONE, MTB_CAN_ABORTED,
	MTB_CAN_RECOVER,   /* a resumed session: valves closed, the vessel emptied and drained */
};
const char *mtb_can_state_name(enum mtb_can_state s);

struct mtb_can_result {
	enum mtb_can_state state;   /* DONE, or ABORTED with `reason` and the state it failed in */
	enum mtb_can_state failed_in;
	char reason[160];
	int n_runs;                 /* completed runs */
	struct mtb_can_run runs[MTB_CAN_MAX_RUNS];
	char evidence_sha256[MTB_CAN_MAX_RUNS][65];   /* the meniscus frame of each run */
	struct mtb_can_series series;   /* valid when state == DONE */
	int64_t bench_time_us;      /* from the first valve command to the last reading */
};

/* Runs the plan on the vessel through the port. MTB_OK when the port and the arithmetic
 * worked (res->state DONE or ABORTED says how the verification went); a negative code only for
 * bad arguments. */
int mtb_can_procedure_run(const struct mtb_vessel *v, const struct mtb_can_plan *plan, struct mtb_can_io *io,
			  struct mtb_can_result *res);

/* Where a resumed session stands (bench/cli/cmd_run_can.c, from the records): the runs
 * already recorded, which stay as they are, and for a vessel to contain the dry weight sealed
 * before the first fill. */
struct mtb_can_resume {
	int n_runs;                            /* 0 ... plan->runs - 1 */
	const struct mtb_can_run *runs;        /* n_runs of them */
	const char (*evidence_sha256)[65];     /* the neck frame of each, or NULL */
	bool have_dry;                         /* to contain: dry_mg was recorded */
	int64_t dry_mg;
};

/* Carries on an interrupted session: the vessel is first brought to a safe state whatever the
 * interruption left (state "recover": both valves closed, then the drain opened until the
 * stream breaks into drops -- a balance in overload from an overfilled vessel is waited out --
 * and the vessel's drain time), then weighed anew, and the runs from `from->n_runs` on are done
 * as in mtb_can_procedure_run; a to-deliver vessel with no run recorded is wetted again. The
 * recorded runs are copied into res->runs and the series is computed over all of them.
 * To contain with no run recorded: the recorded dry weight is I_E; without one, the vessel was
 * never filled (the dry weight is sealed before the first fill) and is weighed dry again. */
int mtb_can_procedure_resume(const struct mtb_vessel *v, const struct mtb_can_plan *plan, struct mtb_can_io *io,
			     const struct mtb_can_resume *from, struct mtb_can_result *res);

#ifdef __cplusplus
}
#endif
#endif
