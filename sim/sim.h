/* meterbench sim: the simulated bench. A plant (pump, valves, a line of meters in series with
 * known true error curves, a reference meter with a certificate-described error, water
 * temperature and pressure, air in the line) driven by a clock that runs free or in lockstep,
 * and served over Modbus TCP/RTU exactly as docs/sim-register-map.md states. What is modelled,
 * with the formulas: docs/sim.md. The configuration format (configs/sim/NAME.yaml): docs/sim.md. */
#ifndef MTB_SIM_SIM_H
#define MTB_SIM_SIM_H

#include "calibration/meter_type.h"
#include "calibration/vessel.h"
#include "core/err.h"
#include "core/log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MTB_SIM_MAX_METERS 32
#define MTB_SIM_MAX_CURVE 32
#define MTB_SIM_MAX_FAULTS 32

/* An error curve: linear in flow between points, flat outside them (CONTRACTS.md). Points in
 * strictly increasing flow. u_exp_pct is used by the reference certificate only. */
struct mtb_sim_curve_point {
	double flow_lph, error_pct, u_exp_pct;
};
struct mtb_sim_curve {
	int n;
	struct mtb_sim_curve_point pt[MTB_SIM_MAX_CURVE];
};

/* Error in percent at a flow (0 for an empty curve). */
double mtb_sim_curve_error_pct(const struct mtb_sim_curve *c, double flow_lph);
/* Expanded uncertainty (k=2) in percent at a flow, interpolated the same way. */
double mtb_sim_curve_u_pct(const struct mtb_sim_curve *c, double flow_lph);

/* Physical parameters of the plant; docs/sim.md gives the model each one enters. */
struct mtb_sim_plant_params {
	double pump_nominal_hz;          /* frequency of the pump curve below */
	double pump_max_hz;              /* highest accepted set point */
	double pump_shutoff_head_kpa;    /* head at zero flow, nominal frequency */
	double pump_max_flow_lph;        /* flow at zero head, nominal frequency */
	double pump_ramp_hz_per_s;       /* VFD acceleration/deceleration ramp */
	double inlet_kvs_m3h;            /* on/off valve fully open */
	double inlet_travel_s;           /* time from one end switch to the other */
	double cv_kvs_m3h;               /* control valve fully open */
	double cv_rangeability;          /* equal-percentage characteristic, R */
	double cv_rate_pct_per_s;        /* actuator speed */
	double line_loss_kpa;            /* pressure loss of the meters and pipes ... */
	double line_loss_flow_lph;       /* ... at this flow (quadratic in flow) */
	double flow_tau_s;               /* first-order time constant of the flow */
	double atmospheric_kpa;
	double static_head_kpa;          /* gauge pressure of the still line (tank height) */
	double water_temp_c;             /* at the reference */
	double water_temp_drift_c_per_h; /* slow drift of the supply temperature */
	double temp_drop_c;              /* reference -> outlet of the string */
	double temp_noise_c;             /* standard deviation of the transmitters' noise */
	double pressure_noise_kpa;
	double ref_flow_noise_pct;       /* reference meter's instantaneous flow output */
	double air_volume_ml;            /* air trapped in the line at start */
	double air_purge_flow_lph;       /* the air moves only above this flow ... */
	double air_purge_tau_s;          /* ... and leaves with this time constant */
	double air_under_register_pct;   /* under-registration of a meter when full of air */
	double air_erratic_pct;          /* erratic part of it (seeded noise) */
};

/* Faults (docs/sim.md). Wire faults act on Modbus replies; the others on the plant. */
enum mtb_sim_fault_kind {
	MTB_SIM_FAULT_NO_REPLY = 0,  /* the request is read and never answered */
	MTB_SIM_FAULT_LATE_REPLY,    /* the reply leaves delay_ms after the request */
	MTB_SIM_FAULT_EXCEPTION,     /* a Modbus exception reply with `code` */
	MTB_SIM_FAULT_BAD_CRC,       /* RTU: reply with a wrong CRC; TCP: wrong transaction id */
	MTB_SIM_FAULT_DISCONNECT,    /* TCP: the connection is closed; RTU: silence */
	MTB_SIM_FAULT_STUCK_VALVE,   /* valve (unit 2 or 3) stops moving, set points ignored */
	MTB_SIM_FAULT_PUMP_TRIP,     /* VFD fault: pump coasts to stop, fault bit set */
	MTB_SIM_FAULT_CAMERA_DROPOUT,/* camera `position` (0: all) answers 503 */
	MTB_SIM_FAULT_BALANCE_SILENT,  /* the balance on the serial line answers nothing */
	MTB_SIM_FAULT_BALANCE_UNSTABLE,/* the balance never settles (a draught, a touching hose) */
};
const char *mtb_sim_fault_kind_name(enum mtb_sim_fault_kind k);
int mtb_sim_fault_kind_parse(const char *name, enum mtb_sim_fault_kind *out);

struct mtb_sim_fault {
	enum mtb_sim_fault_kind kind;
	int unit;            /* Modbus unit id, -1 = every unit (wire faults; valves: 2 or 3) */
	int position;        /* camera position, 0 = every camera */
	int code;            /* exception code (1-11) */
	int delay_ms;        /* late reply */
	int64_t at_us;       /* simulated instant the fault starts */
	int64_t duration_us; /* 0: until cleared */
	int count;           /* wire faults: replies affected; -1 = no limit */
};

struct mtb_sim_meter_config {
	char serial[64];
	char type_name[64];
	struct mtb_meter_type type;       /* resolved by mtb_sim_config_load */
	struct mtb_sim_curve true_error;
	bool has_start_volume;
	int64_t start_volume_ul;          /* the dial's reading at t = 0 */
	char face[64];                    /* dial style (sim/dial_render.h); "" = one per position */
};

struct mtb_sim_camera_config {
	int width, height;
	int fps;             /* MJPEG frame rate (wall clock) */
	int jpeg_quality;
	double nuisance;     /* 0 clean ... 1 full glare, blur, noise, tilt (sim/dial_render.h) */
};

/* What the simulated balance speaks on its serial line: MT-SICS (sim/sim_sics.h), or Sartorius
 * SBI (sim/sim_sbi.h) in 16-character frames or in 22 with an ID in front. */
enum mtb_sim_balance_protocol {
	MTB_SIM_BALANCE_SICS = 0,
	MTB_SIM_BALANCE_SBI,
	MTB_SIM_BALANCE_SBI_ID,
};
/* "sics", "sbi", "sbi-id" -> the protocol; MTB_ERR_ARG for another name. */
int mtb_sim_balance_protocol_parse(const char *name, enum mtb_sim_balance_protocol *out);
const char *mtb_sim_balance_protocol_name(enum mtb_sim_balance_protocol p);

/* A measuring can (or cylinder) on a balance beside the meter line (docs/sim.md, "The can"):
 * filled and emptied through its own valves, weighed by a balance on a serial line, its neck
 * seen by a camera. */
struct mtb_sim_can_config {
	char vessel_name[64];
	struct mtb_vessel vessel;         /* resolved by mtb_sim_config_load */
	double error_ml;                  /* injected capacity error, indicated - true, at t_ref */
	double water_c, air_c, p_hpa, rh_pct;
	double fill_s;                    /* the fill valve delivers the nominal volume in this time */
	double settle_s;                  /* the balance settles this long after the water stops */
	double capacity_kg;               /* balance capacity; 0: tare + 1.5 x nominal mass */
	double nuisance;                  /* of the neck images (sim/neck_render.h) */
	double camera_elevation_deg;      /* where the neck camera is mounted: above (+) or below (-) the
					     meniscus, around which the levelling's residual is drawn */
	enum mtb_sim_balance_protocol balance_protocol;   /* what the balance speaks (default MT-SICS) */
};

struct mtb_sim_config {
	char name[64];
	uint64_t seed;
	char reference_certificate[128];  /* configs/references/NAME.yaml */
	struct mtb_sim_curve reference_curve;  /* resolved by mtb_sim_config_load */
	bool has_reference_deviation;
	double reference_deviation;       /* fraction of U in [-0.5, 0.5]; seeded when absent */
	struct mtb_sim_plant_params plant;
	struct mtb_sim_camera_config camera;
	int n_meters;
	struct mtb_sim_meter_config meters[MTB_SIM_MAX_METERS];
	int n_faults;
	struct mtb_sim_fault faults[MTB_SIM_MAX_FAULTS];
	bool has_can;
	struct mtb_sim_can_config can;
};

/* Fills every field with the documented defaults, no meters, no faults, seed 1, and a perfect
 * reference (empty curve). */
void mtb_sim_config_defaults(struct mtb_sim_config *cfg);

/* Parses a simulator configuration (pure: resolves no file). Errors name origin, line, field. */
int mtb_sim_config_parse(const char *data, size_t len, const char *origin,
			 struct mtb_sim_config *out, struct mtb_errbuf *eb);

/* Loads a configuration file (path or name under configs/sim/), then resolves each meter's type
 * (configs/types/) and the reference certificate (configs/references/, through
 * calibration/reference.h). */
int mtb_sim_config_load(const char *path_or_name, struct mtb_sim_config *out, struct mtb_errbuf *eb);

/* ---- the plant ---------------------------------------------------------------------------- */
struct mtb_sim_plant;

int mtb_sim_plant_create(const struct mtb_sim_config *cfg, struct mtb_sim_plant **out,
			 struct mtb_errbuf *eb);
void mtb_sim_plant_destroy(struct mtb_sim_plant *p);

/* Advances the simulation by dt_us (>= 0) in fixed internal steps on a 10 ms grid. */
void mtb_sim_plant_advance(struct mtb_sim_plant *p, int64_t dt_us);
int64_t mtb_sim_plant_time_us(const struct mtb_sim_plant *p);

/* Commands, as the Modbus face writes them. Out-of-range values: MTB_ERR_RANGE. */
void mtb_sim_plant_set_pump_run(struct mtb_sim_plant *p, bool run);
int mtb_sim_plant_set_pump_hz(struct mtb_sim_plant *p, double hz);
void mtb_sim_plant_set_inlet_open(struct mtb_sim_plant *p, bool open);
int mtb_sim_plant_set_cv_pct(struct mtb_sim_plant *p, double pct);
/* Adds a fault (plant faults act here; wire faults are kept for the server to consult). */
int mtb_sim_plant_fault_add(struct mtb_sim_plant *p, const struct mtb_sim_fault *f);
void mtb_sim_plant_faults_clear(struct mtb_sim_plant *p);
/* The first active wire fault for unit at the current instant, with its count consumed;
 * NULL when none. The pointer is valid until the next call on p. */
const struct mtb_sim_fault *mtb_sim_plant_wire_fault_take(struct mtb_sim_plant *p, int unit);
bool mtb_sim_plant_camera_dropout(const struct mtb_sim_plant *p, int position);
/* Whether a fault of this kind (any unit) is active now (balance faults). */
bool mtb_sim_plant_fault_on(const struct mtb_sim_plant *p, enum mtb_sim_fault_kind kind);

/* The can of the configuration (sim/can_sim.h), advanced with the plant; NULL when none. */
struct mtb_sim_can *mtb_sim_plant_can(const struct mtb_sim_plant *p);

/* What the instruments show: the readings the Modbus face serves. Noise is a pure function of
 * (seed, channel, 100 ms interval of simulated time), so reading never changes the plant. */
struct mtb_sim_readings {
	int64_t t_us;
	bool pump_run;
	double pump_set_hz, pump_hz;
	bool pump_fault;
	bool inlet_open_cmd, inlet_is_open, inlet_is_closed;
	double cv_set_pct, cv_pct;
	double ref_flow_lph;          /* reference's instantaneous output */
	int64_t ref_total_ul;         /* reference's totaliser (its indication) */
	double p_inlet_kpa, p_outlet_kpa;    /* absolute */
	double t_ref_c, t_outlet_c;
};
void mtb_sim_plant_read(const struct mtb_sim_plant *p, struct mtb_sim_readings *r);

/* The truth, for tests only: the bench must never use it. */
struct mtb_sim_truth_meter {
	char serial[64];
	int64_t true_ul;        /* volume that went through the meter, at its conditions */
	int64_t indicated_ul;   /* its dial, start volume included */
	int64_t start_ul;
	double flow_lph;        /* through this meter */
	double true_error_pct;  /* its curve at that flow */
};
struct mtb_sim_truth {
	int64_t t_us;
	double flow_lph;            /* at the reference */
	double air_ml;
	int64_t ref_true_ul;        /* volume through the reference */
	int64_t ref_indicated_ul;
	double ref_error_pct;       /* the reference's actual error now (certificate + deviation) */
	int n_meters;
	struct mtb_sim_truth_meter meters[MTB_SIM_MAX_METERS];
};
void mtb_sim_plant_truth(const struct mtb_sim_plant *p, struct mtb_sim_truth *out);

/* The indicated volume of meter `position` (1-based), for the cameras. */
int64_t mtb_sim_plant_indicated_ul(const struct mtb_sim_plant *p, int position);

#ifdef __cplusplus
}
#endif
#endif
