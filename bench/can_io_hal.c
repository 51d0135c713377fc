#include "bench/can_io_hal.h"

#include "bench/bench_io_hal.h"
#include "hal/camera.h"
#include "hal/devices.h"
#include "hal/hal.h"
#include "vision/meniscus.h"
#include "vision/vision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mtb_can_io_hal {
	struct mtb_hal *hal;
	struct mtb_camera *cam;
	struct mtb_can_io_hal_opts o;
	struct mtb_clock clock;
	int64_t sim_t_us;          /* lockstep: the simulator's time after the last advance */
	struct mtb_device *fill, *drain, *balance, *t_water, *t_air, *p_air, *rh_air, *sim_clock;
	struct mtb_meniscus_scale scale;
	struct mtb_bench_pace pace;
	bool fill_cmd, drain_cmd;  /* the valves as last commanded (for the live view) */
	struct mtb_errbuf eb;
};

/* As bench_io_hal.c: in lockstep the bench clock is the simulator's time plus one second (the
 * HAL reads a sample time of 0 as "never read"). */
#define LOCKSTEP_EPOCH_US 1000000

static int64_t lockstep_now(void *user)
{
	return ((struct mtb_can_io_hal *)user)->sim_t_us + LOCKSTEP_EPOCH_US;
}

static struct mtb_can_io_hal *H(void *ctx) { return ctx; }

static int64_t io_now(void *ctx) { return mtb_clock_now_us(&H(ctx)->clock); }

static int wait_step(struct mtb_can_io_hal *h, int64_t dt_us)
{
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

/* With an on_wait observer a long wait (settling, draining) goes in steps of at most a second
 * of bench time, the observer called after each (the live view's frames while the water
 * settles); the simulator integrates in 10 ms steps either way. */
#define WAIT_STEP_US 1000000

static int io_wait(void *ctx, int64_t dt_us)
{
	struct mtb_can_io_hal *h = H(ctx);
	if (!h->o.on_wait)
		return wait_step(h, dt_us);
	while (dt_us > 0) {
		int64_t step = dt_us > WAIT_STEP_US ? WAIT_STEP_US : dt_us;
		int rc = wait_step(h, step);
		if (rc != MTB_OK)
			return rc;
		dt_us -= step;
		h->o.on_wait(h->o.user, io_now(ctx));
	}
	return MTB_OK;
}

static int io_fill(void *ctx, bool open)
{
	struct mtb_can_io_hal *h = H(ctx);
	h->fill_cmd = open;
	return mtb_valve_set_open(h->fill, open, &h->eb);
}

static int io_drain(void *ctx, bool open)
{
	struct mtb_can_io_hal *h = H(ctx);
	h->drain_cmd = open;
	return mtb_valve_set_open(h->drain, open, &h->eb);
}

static int io_balance(void *ctx, struct mtb_balance_obs *out)
{
	struct mtb_can_io_hal *h = H(ctx);
	mtb_hal_heartbeat(h->hal);
	int64_t t = 0;
	out->mass_mg = 0;
	out->stable = false;
	int rc = mtb_balance_read_mg(h->balance, &out->mass_mg, &out->stable, &t, &h->eb);
	if (rc != MTB_OK)
		t = io_now(ctx);
	if (h->o.on_balance)
		h->o.on_balance(h->o.user, t, rc, out->mass_mg, out->stable);
	return rc;
}

static int io_conditions(void *ctx, struct mtb_can_conditions *out)
{
	struct mtb_can_io_hal *h = H(ctx);
	const char *unit;
	int rc;
	if ((rc = mtb_transmitter_read(h->t_water, &out->water_temp_c, &unit, NULL, &h->eb)) != MTB_OK ||
	    (rc = mtb_transmitter_read(h->t_air, &out->air_temp_c, &unit, NULL, &h->eb)) != MTB_OK ||
	    (rc = mtb_transmitter_read(h->p_air, &out->p_hpa, &unit, NULL, &h->eb)) != MTB_OK ||
	    (rc = mtb_transmitter_read(h->rh_air, &out->rh_pct, &unit, NULL, &h->eb)) != MTB_OK)
		return rc;
	/* the air density formula wants hPa: a transmitter in kPa or Pa is converted */
	if (unit && strcmp(unit, "kPa") == 0)
		out->p_hpa *= 10;
	return MTB_OK;
}

static int io_meniscus(void *ctx, struct mtb_meniscus_obs *out)
{
	struct mtb_can_io_hal *h = H(ctx);
	memset(out, 0, sizeof *out);
	mtb_hal_heartbeat(h->hal);
	struct mtb_image *img = NULL;
	int rc = mtb_camera_grab(h->cam, &img, &h->eb);
	if (rc != MTB_OK) {
		snprintf(out->reason, sizeof out->reason, "camera: %.100s", h->eb.msg);
		if (h->o.on_meniscus)
			h->o.on_meniscus(h->o.user, io_now(ctx), out, NULL, 0);
		return rc;
	}
	int64_t t = h->o.lockstep ? img->t_mono_us + LOCKSTEP_EPOCH_US : img->t_mono_us;
	struct mtb_meniscus_reading r;
	struct mtb_errbuf eb = { { 0 } };
	rc = mtb_meniscus_read(img, &h->scale, &r, &eb);
	if (rc != MTB_OK) {
		snprintf(out->reason, sizeof out->reason, "reader: %.100s", eb.msg);
	} else {
		out->ok = !r.refused;
		out->level_div = r.level_div;
		out->confidence = r.confidence;
		snprintf(out->reason, sizeof out->reason, "%s", r.reason);
	}
	if (h->o.on_frame)
		h->o.on_frame(h->o.user, img, out, rc == MTB_OK && !r.refused ? r.meniscus_y_px : -1);
	/* the frame is evidence whether or not it could be read */
	unsigned char *png = NULL;
	size_t len = 0;
	if (mtb_image_encode_png(img, &png, &len, &eb) != MTB_OK) {
		png = NULL;
		len = 0;
	}
	mtb_image_destroy(img);
	if (h->o.on_meniscus)
		h->o.on_meniscus(h->o.user, t, out, png, len);
	free(png);
	return rc;
}

static int io_safe(void *ctx)
{
	struct mtb_can_io_hal *h = H(ctx);
	h->fill_cmd = h->drain_cmd = false;
	int a = mtb_valve_set_open(h->fill, false, &h->eb);
	int b = mtb_valve_set_open(h->drain, false, &h->eb);
	return a != MTB_OK ? a : b;
}

static void io_run_done(void *ctx, int run_index, const struct mtb_can_run *run)
{
	struct mtb_can_io_hal *h = H(ctx);
	if (h->o.on_run)
		h->o.on_run(h->o.user, run_index, run);
}

static void io_fill_step(void *ctx, const struct mtb_can_fill_step *step)
{
	struct mtb_can_io_hal *h = H(ctx);
	if (h->o.on_fill_step)
		h->o.on_fill_step(h->o.user, step);
}

static void io_tared(void *ctx, int64_t dry_mg)
{
	struct mtb_can_io_hal *h = H(ctx);
	if (h->o.on_tare)
		h->o.on_tare(h->o.user, dry_mg);
}

static void io_state(void *ctx, int state, int run_index)
{
	struct mtb_can_io_hal *h = H(ctx);
	if (h->o.on_state)
		h->o.on_state(h->o.user, io_now(ctx), state, run_index);
}

static const struct mtb_can_io_ops OPS = {
	io_now, io_wait, io_fill, io_drain, io_balance, io_conditions, io_meniscus, io_safe, io_run_done, io_tared, io_state, io_fill_step,
};

struct mtb_can_io mtb_can_io_hal_port(struct mtb_can_io_hal *h)
{
	return (struct mtb_can_io){ .ops = &OPS, .ctx = h };
}

int mtb_can_io_hal_capture(struct mtb_can_io_hal *h, struct mtb_image **img, struct mtb_errbuf *eb)
{
	return mtb_camera_grab(h->cam, img, eb);
}

void mtb_can_io_hal_valves_commanded(const struct mtb_can_io_hal *h, bool *fill_open, bool *drain_open)
{
	*fill_open = h->fill_cmd;
	*drain_open = h->drain_cmd;
}

const char *mtb_can_io_hal_last_error(const struct mtb_can_io_hal *h)
{
	return h->eb.msg;
}

int mtb_can_io_hal_valves_closed(struct mtb_can_io_hal *h, bool *closed, struct mtb_errbuf *eb)
{
	struct mtb_valve_state a, b;
	int rc;
	if ((rc = mtb_valve_read(h->fill, &a, eb)) != MTB_OK || (rc = mtb_valve_read(h->drain, &b, eb)) != MTB_OK)
		return rc;
	*closed = !a.cmd_open && !b.cmd_open;
	return MTB_OK;
}

int mtb_can_io_hal_create(struct mtb_can_io_hal **out, const struct mtb_bench_cfg *cfg,
			  const struct mtb_can_io_hal_opts *opts, struct mtb_errbuf *eb)
{
	*out = NULL;
	if (!opts || !opts->vessel)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "can port: no vessel");
	static const struct {
		const char *name;
		enum mtb_device_class cls;
	} NEED[] = {
		{ "can_fill", MTB_DEV_VALVE }, { "can_drain", MTB_DEV_VALVE }, { "balance", MTB_DEV_BALANCE },
		{ "t_can_water", MTB_DEV_TEMPERATURE }, { "t_air", MTB_DEV_TEMPERATURE }, { "p_air", MTB_DEV_PRESSURE },
		{ "rh_air", MTB_DEV_HUMIDITY },
	};
	for (size_t i = 0; i < sizeof NEED / sizeof NEED[0]; i++) {
		int d = mtb_bench_cfg_device(cfg, NEED[i].name);
		if (d < 0 || cfg->devices[d].cls != NEED[i].cls)
			return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: a can run needs a %s device named '%s'", cfg->origin,
					      mtb_device_class_name(NEED[i].cls), NEED[i].name);
	}
	const struct mtb_camera_cfg *neck = NULL;
	for (int i = 0; i < cfg->n_cameras; i++)
		if (strcmp(cfg->cameras[i].name, "neck") == 0)
			neck = &cfg->cameras[i];
	if (!neck)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: a can run needs a camera named 'neck'", cfg->origin);
	struct mtb_can_io_hal *h = calloc(1, sizeof *h);
	if (!h)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "out of memory");
	h->o = *opts;
	h->clock = opts->lockstep ? (struct mtb_clock){ lockstep_now, NULL, h } : mtb_clock_system;
	struct mtb_hal_opts ho = { .clock = &h->clock, .log = opts->log };
	int rc = mtb_hal_create(&h->hal, cfg, &ho, eb);
	if (rc != MTB_OK) {
		free(h);
		return rc;
	}
	h->fill = mtb_hal_device(h->hal, "can_fill");
	h->drain = mtb_hal_device(h->hal, "can_drain");
	h->balance = mtb_hal_device(h->hal, "balance");
	h->t_water = mtb_hal_device(h->hal, "t_can_water");
	h->t_air = mtb_hal_device(h->hal, "t_air");
	h->p_air = mtb_hal_device(h->hal, "p_air");
	h->rh_air = mtb_hal_device(h->hal, "rh_air");
	for (int i = 0; i < cfg->n_devices && !h->sim_clock; i++)
		if (cfg->devices[i].cls == MTB_DEV_SIM_CLOCK)
			h->sim_clock = mtb_hal_device(h->hal, cfg->devices[i].name);
	if (!h->balance) {   /* the balance driver opens its line when the HAL is made */
		rc = mtb_errbuf_set(eb, MTB_ERR_IO, "%s: the balance could not be opened", cfg->origin);
		goto fail;
	}
	if (opts->lockstep) {
		uint64_t t;
		if (!h->sim_clock) {
			rc = mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: no sim-clock device for a lockstep run", cfg->origin);
			goto fail;
		}
		if ((rc = mtb_sim_clock_read_us(h->sim_clock, &t, eb)) != MTB_OK) {
			mtb_errbuf_prefix(eb, rc, "simulator clock");
			goto fail;
		}
		h->sim_t_us = (int64_t)t;
		mtb_bench_pace_start(&h->pace, opts->pace, NULL, h->sim_t_us);
	}
	struct mtb_camera_opts co = { .clock = &h->clock, .log = opts->log, .timeout_ms = 5000 };
	if ((rc = mtb_camera_open(&h->cam, neck, &co, eb)) != MTB_OK) {
		mtb_errbuf_prefix(eb, rc, "camera 'neck'");
		goto fail;
	}
	const struct mtb_vessel *v = opts->vessel;
	h->scale.divisions = v->scale.divisions;
	h->scale.long_every = v->scale.long_every;
	h->scale.expected_div = v->scale.nominal_div;
	h->scale.neck_radius_div = v->scale.neck_diameter_mm / 2 / v->scale.division_mm;
	h->scale.read_top = v->meniscus == MTB_MENISCUS_TOP;
	/* A procedure that stops calling for 10 s of wall time has hung: safe state. */
	mtb_hal_heartbeat_arm(h->hal, 10000);
	*out = h;
	return MTB_OK;
fail:
	mtb_can_io_hal_destroy(h);
	return rc;
}

void mtb_can_io_hal_destroy(struct mtb_can_io_hal *h)
{
	if (!h)
		return;
	if (h->hal)
		mtb_hal_heartbeat_arm(h->hal, 0);
	mtb_camera_close(h->cam);
	mtb_hal_destroy(h->hal);
	free(h);
}
