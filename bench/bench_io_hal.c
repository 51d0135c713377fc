#include "bench/bench_io_hal.h"

#include "hal/devices.h"
#include "hal/hal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char TAG[] = "bench-io";

struct mtb_bench_io_hal {
	struct mtb_hal *hal;
	struct mtb_bench_io_hal_opts o;
	struct mtb_clock clock;
	int64_t sim_t_us;                /* lockstep: the simulator's time after the last advance */
	struct mtb_bench_pace pace;      /* --pace (lockstep) */
	struct mtb_device *reference, *control_valve, *pump, *inlet, *sim_clock;
	struct mtb_device *p_in, *p_out, *t_ref, *t_out;
	struct mtb_errbuf eb;            /* detail of the last failure */
	/* Water conditions change slowly: the transmitters are read at most once a second of
	 * bench time, the reference at every sample. */
	struct mtb_ref_obs cond;
	int64_t cond_t_us;
	bool have_cond;
};

#define CONDITIONS_PERIOD_US 1000000

/* In lockstep the bench clock is the simulator's time plus one second: the HAL reads a sample
 * time of 0 as "never read", and the simulator starts at 0. */
#define LOCKSTEP_EPOCH_US 1000000

static int64_t lockstep_now(void *user)
{
	return ((struct mtb_bench_io_hal *)user)->sim_t_us + LOCKSTEP_EPOCH_US;
}

static struct mtb_bench_io_hal *H(void *ctx) { return ctx; }

static int64_t io_now(void *ctx)
{
	return mtb_clock_now_us(&H(ctx)->clock);
}

int mtb_bench_lockstep_advance(struct mtb_device *sim_clock, int64_t dt_us, int64_t *sim_t_us,
			       struct mtb_errbuf *eb)
{
	while (dt_us > 0) {
		uint32_t step = dt_us > 60000000 ? 60000000u : (uint32_t)dt_us;
		int rc = mtb_sim_clock_advance_us(sim_clock, step, eb);
		if (rc != MTB_OK)
			return rc;
		dt_us -= step;
	}
	uint64_t t;
	int rc = mtb_sim_clock_read_us(sim_clock, &t, eb);
	if (rc == MTB_OK)
		*sim_t_us = (int64_t)t;
	return rc;
}

static int io_wait(void *ctx, int64_t dt_us)
{
	struct mtb_bench_io_hal *h = H(ctx);
	mtb_hal_heartbeat(h->hal);
	if (!h->o.lockstep) {
		mtb_clock_sleep_us(&h->clock, dt_us);
		return MTB_OK;
	}
	int rc = mtb_bench_lockstep_advance(h->sim_clock, dt_us, &h->sim_t_us, &h->eb);
	if (rc == MTB_OK)
		mtb_bench_pace_wait(&h->pace, h->sim_t_us, h->hal);
	return rc;
}

void mtb_bench_pace_start(struct mtb_bench_pace *p, double pace, const struct mtb_clock *wall, int64_t sim_t_us)
{
	p->pace = pace;
	p->wall = wall ? wall : &mtb_clock_system;
	p->sim0_us = sim_t_us;
	p->wall0_us = mtb_clock_now_us(p->wall);
}

void mtb_bench_pace_wait(struct mtb_bench_pace *p, int64_t sim_t_us, struct mtb_hal *hal)
{
	if (!(p->pace > 0))
		return;
	int64_t due = p->wall0_us + (int64_t)((double)(sim_t_us - p->sim0_us) / p->pace);
	int64_t now = mtb_clock_now_us(p->wall);
	if (due < now) {
		p->wall0_us = now;
		p->sim0_us = sim_t_us;
	}
	for (int64_t left; (left = due - mtb_clock_now_us(p->wall)) > 0;) {
		mtb_clock_sleep_us(p->wall, left > 500000 ? 500000 : left);
		mtb_hal_heartbeat(hal);
	}
}

static int io_set_inlet(void *ctx, bool open)
{
	struct mtb_bench_io_hal *h = H(ctx);
	return h->inlet ? mtb_valve_set_open(h->inlet, open, &h->eb) : MTB_OK;
}

static int io_set_valve(void *ctx, double pct)
{
	struct mtb_bench_io_hal *h = H(ctx);
	return mtb_control_valve_set_pct(h->control_valve, pct, &h->eb);
}

static int io_set_pump(void *ctx, double hz)
{
	struct mtb_bench_io_hal *h = H(ctx);
	if (!h->pump)
		return MTB_OK;
	int rc = mtb_pump_set_frequency_hz(h->pump, hz > 0 ? hz : 0, &h->eb);
	if (rc == MTB_OK)
		rc = mtb_pump_set_run(h->pump, hz > 0, &h->eb);
	return rc;
}

static int transmitter(struct mtb_bench_io_hal *h, struct mtb_device *d, double fallback, double *v)
{
	if (!d) {
		*v = fallback;
		return MTB_OK;
	}
	const char *unit;
	int64_t t;
	return mtb_transmitter_read(d, v, &unit, &t, &h->eb);
}

static int io_read_reference(void *ctx, struct mtb_ref_obs *o)
{
	struct mtb_bench_io_hal *h = H(ctx);
	mtb_hal_heartbeat(h->hal);
	struct mtb_reference_sample s;
	int rc = mtb_reference_read(h->reference, &s, &h->eb);
	if (rc != MTB_OK)
		return rc;
	if (!h->have_cond || s.t_mono_us - h->cond_t_us >= CONDITIONS_PERIOD_US) {
		/* A missing sensor reads as 20 C / atmospheric (docs/procedure.md). */
		struct mtb_ref_obs *c = &h->cond;
		if ((rc = transmitter(h, h->t_ref, 20.0, &c->temp_ref_c)) != MTB_OK ||
		    (rc = transmitter(h, h->t_out, c->temp_ref_c, &c->temp_out_c)) != MTB_OK ||
		    (rc = transmitter(h, h->p_in, 101.325, &c->p_in_kpa)) != MTB_OK ||
		    (rc = transmitter(h, h->p_out, c->p_in_kpa, &c->p_out_kpa)) != MTB_OK)
			return rc;
		h->cond_t_us = s.t_mono_us;
		h->have_cond = true;
	}
	*o = h->cond;
	o->t_us = s.t_mono_us;
	o->flow_lph = s.flow_lph;
	o->totaliser_ul = s.totaliser_ul;
	return MTB_OK;
}

static int io_read_dials(void *ctx, const int *positions, int n, struct mtb_dial_obs *out)
{
	struct mtb_bench_io_hal *h = H(ctx);
	if (!h->o.read_dial)
		return mtb_errbuf_set(&h->eb, MTB_ERR_NOTSUP, "no dial reader");
	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		out[i].position = positions[i];
		int rc = h->o.read_dial(h->o.read_dial_user, positions[i], &out[i]);
		if (rc != MTB_OK && rc != MTB_ERR_REFUSED) {
			/* A camera that cannot deliver is one meter's problem, not the run's. */
			out[i].ok = false;
			if (!out[i].reason[0])
				snprintf(out[i].reason, sizeof out[i].reason, "camera: %s", mtb_strerror(rc));
		}
	}
	return MTB_OK;
}

static int io_safe_state(void *ctx)
{
	struct mtb_bench_io_hal *h = H(ctx);
	struct mtb_hal_safe_report rep;
	int rc = mtb_hal_abort(h->hal, "run aborted", &rep);
	mtb_log_msg(h->o.log, MTB_LOG_WARN, TAG, "safe state: %d of %d writes done (%s)", rep.n_ok, rep.n_writes, rep.reason);
	return rc;
}

static const char *io_last_error(void *ctx)
{
	return H(ctx)->eb.msg;
}

static const struct mtb_bench_io_ops HAL_OPS = {
	io_now, io_wait, io_set_inlet, io_set_valve, io_set_pump, io_read_reference, io_read_dials, io_safe_state,
	io_last_error,
};

static struct mtb_device *first_of(struct mtb_hal *hal, const struct mtb_bench_cfg *cfg, enum mtb_device_class c,
				   bool last)
{
	struct mtb_device *found = NULL;
	for (int i = 0; i < cfg->n_devices; i++)
		if (cfg->devices[i].cls == c) {
			found = mtb_hal_device(hal, cfg->devices[i].name);
			if (!last)
				break;
		}
	return found;
}

int mtb_bench_io_hal_create(struct mtb_bench_io_hal **out, const struct mtb_bench_cfg *cfg,
			    const struct mtb_bench_io_hal_opts *opts, struct mtb_errbuf *eb)
{
	*out = NULL;
	struct mtb_bench_io_hal *h = calloc(1, sizeof *h);
	if (!h)
		return MTB_ERR_NOMEM;
	h->o = *opts;
	if (!h->o.wall)
		h->o.wall = &mtb_clock_system;
	if (opts->lockstep)
		h->clock = (struct mtb_clock){ lockstep_now, NULL, h };
	else
		h->clock = mtb_clock_system;
	struct mtb_hal_opts ho = { .clock = &h->clock, .log = opts->log };
	int rc = mtb_hal_create(&h->hal, cfg, &ho, eb);
	if (rc != MTB_OK) {
		free(h);
		return rc;
	}
	h->reference = first_of(h->hal, cfg, MTB_DEV_REFERENCE, false);
	h->control_valve = first_of(h->hal, cfg, MTB_DEV_CONTROL_VALVE, false);
	h->pump = first_of(h->hal, cfg, MTB_DEV_PUMP, false);
	h->inlet = first_of(h->hal, cfg, MTB_DEV_VALVE, false);
	h->sim_clock = first_of(h->hal, cfg, MTB_DEV_SIM_CLOCK, false);
	h->p_in = first_of(h->hal, cfg, MTB_DEV_PRESSURE, false);
	h->p_out = first_of(h->hal, cfg, MTB_DEV_PRESSURE, true);
	h->t_ref = first_of(h->hal, cfg, MTB_DEV_TEMPERATURE, false);
	h->t_out = first_of(h->hal, cfg, MTB_DEV_TEMPERATURE, true);
	const char *missing = !h->reference ? "reference-meter" : !h->control_valve ? "control-valve"
			      : (opts->lockstep && !h->sim_clock) ? "sim-clock" : NULL;
	if (missing) {
		rc = mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: no %s device: a verification run needs one", cfg->origin, missing);
		mtb_bench_io_hal_destroy(h);
		return rc;
	}
	if (opts->lockstep) {
		uint64_t t;
		if ((rc = mtb_sim_clock_read_us(h->sim_clock, &t, eb)) != MTB_OK) {
			mtb_errbuf_prefix(eb, rc, "simulator clock");
			mtb_bench_io_hal_destroy(h);
			return rc;
		}
		h->sim_t_us = (int64_t)t;
		mtb_bench_pace_start(&h->pace, h->o.pace, h->o.wall, h->sim_t_us);
	}
	/* A sequencer that stops calling for 10 s of wall time has hung: safe state. */
	mtb_hal_heartbeat_arm(h->hal, 10000);
	*out = h;
	return MTB_OK;
}

void mtb_bench_io_hal_destroy(struct mtb_bench_io_hal *h)
{
	if (!h)
		return;
	mtb_hal_heartbeat_arm(h->hal, 0);
	mtb_hal_destroy(h->hal);
	free(h);
}

void mtb_bench_io_hal_set_dial_reader(struct mtb_bench_io_hal *h, mtb_dial_reader_fn fn, void *user)
{
	h->o.read_dial = fn;
	h->o.read_dial_user = user;
}

struct mtb_bench_io mtb_bench_io_hal_port(struct mtb_bench_io_hal *h)
{
	return (struct mtb_bench_io){ &HAL_OPS, h };
}

const struct mtb_clock *mtb_bench_io_hal_clock(struct mtb_bench_io_hal *h)
{
	return &h->clock;
}

int64_t mtb_bench_io_hal_sim_to_bench_us(const struct mtb_bench_io_hal *h, int64_t sim_t_us)
{
	return h->o.lockstep ? sim_t_us + LOCKSTEP_EPOCH_US : sim_t_us;
}
