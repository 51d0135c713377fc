#include "bench/pid.h"

#include <math.h>
#include <string.h>

void mtb_pid_init(struct mtb_pid *c, const struct mtb_pid_params *p, double initial_out)
{
	memset(c, 0, sizeof *c);
	c->p = *p;
	c->out = initial_out;
	c->integral = initial_out;   /* bumpless start from the actuator's current position */
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

double mtb_pid_step(struct mtb_pid *c, double setpoint, double measured, int64_t t_us)
{
	if (!(setpoint > 0) || !isfinite(measured))
		return c->out;
	double e = (setpoint - measured) / setpoint;
	double dt = c->primed ? (double)(t_us - c->last_t_us) / 1e6 : 0.0;
	if (c->primed && dt <= 0)
		return c->out;
	double d = 0;
	if (c->primed && c->p.td_s > 0)
		d = -c->p.kp * c->p.td_s * ((measured - c->last_meas) / setpoint) / dt;
	if (c->p.ti_s > 0 && dt > 0)
		c->integral += c->p.kp * e * dt / c->p.ti_s;
	double raw = c->p.kp * e + c->integral + d;
	double out = clamp(raw, c->p.out_min, c->p.out_max);
	/* Anti-windup by back-calculation: keep the integral where the output actually is. */
	if (raw != out)
		c->integral = clamp(c->integral + (out - raw), c->p.out_min, c->p.out_max);
	c->last_meas = measured;
	c->last_t_us = t_us;
	c->primed = true;
	c->out = out;
	return out;
}

void mtb_stability_init(struct mtb_stability *s, int64_t window_us, int32_t tol_ppm)
{
	memset(s, 0, sizeof *s);
	s->window_us = window_us;
	s->tol_ppm = tol_ppm;
}

void mtb_stability_reset(struct mtb_stability *s)
{
	s->n = 0;
	s->head = 0;
}

void mtb_stability_add(struct mtb_stability *s, int64_t t_us, double flow)
{
	s->t_us[s->head] = t_us;
	s->flow[s->head] = flow;
	s->head = (s->head + 1) % MTB_STABILITY_MAX_SAMPLES;
	if (s->n < MTB_STABILITY_MAX_SAMPLES)
		s->n++;
}

bool mtb_stability_ok(const struct mtb_stability *s, double setpoint, int64_t now_us)
{
	if (s->n == 0 || !(setpoint > 0))
		return false;
	bool covered = false;
	double band = setpoint * s->tol_ppm / 1e6;
	for (int i = 0; i < s->n; i++) {
		int k = (s->head - 1 - i + MTB_STABILITY_MAX_SAMPLES) % MTB_STABILITY_MAX_SAMPLES;
		if (now_us - s->t_us[k] > s->window_us) {
			covered = true;   /* a sample older than the window: the window is fully observed */
			break;
		}
		if (!(fabs(s->flow[k] - setpoint) <= band))
			return false;
	}
	return covered;
}
