/* meterbench bench: flow control. A PID controller drives the control valve (or the VFD) to a
 * flow set point, and a stability detector says when the flow has held within the allowed band
 * long enough to start a test. Pure: time comes in with each sample. */
#ifndef MTB_BENCH_PID_H
#define MTB_BENCH_PID_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_pid_params {
	double kp;              /* output % per unit of relative error */
	double ti_s;            /* integral time, s (<= 0: no integral action) */
	double td_s;            /* derivative time, s, on the measurement (no kick on set-point steps) */
	double out_min, out_max;/* actuator range, e.g. 0-100 % */
};

struct mtb_pid {
	struct mtb_pid_params p;
	double integral;        /* in output units */
	double last_meas;
	int64_t last_t_us;
	bool primed;
	double out;
};

void mtb_pid_init(struct mtb_pid *c, const struct mtb_pid_params *p, double initial_out);

/* One control step. The error is relative to the set point (so gains do not depend on the flow
 * range: 1 % off at Q1 is as urgent as 1 % off at Q3). Integral clamped by back-calculation
 * when the output saturates. Returns the new output. */
double mtb_pid_step(struct mtb_pid *c, double setpoint, double measured, int64_t t_us);

/* Stability over a sliding window: stable when every sample of the last window_us lies within
 * +-tol_ppm of the set point (R 49-2: +-2.5 % below Q2, +-5 % above, standards-factsheet 1.10,
 * [U] — the band is configuration). */
#define MTB_STABILITY_MAX_SAMPLES 512

struct mtb_stability {
	int64_t window_us;
	int32_t tol_ppm;
	int n, head;
	int64_t t_us[MTB_STABILITY_MAX_SAMPLES];
	double flow[MTB_STABILITY_MAX_SAMPLES];
};

void mtb_stability_init(struct mtb_stability *s, int64_t window_us, int32_t tol_ppm);
void mtb_stability_reset(struct mtb_stability *s);
void mtb_stability_add(struct mtb_stability *s, int64_t t_us, double flow);
/* True when samples cover the whole window and all are within the band of setpoint. */
bool mtb_stability_ok(const struct mtb_stability *s, double setpoint, int64_t now_us);

#ifdef __cplusplus
}
#endif
#endif
