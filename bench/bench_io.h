/* meterbench bench: what the sequencer needs from a bench, as one small vtable.
 *
 * The sequencer decides; a bench port acts and observes. The port for real and simulated benches
 * (bench/bench_io_hal.c) drives the HAL's devices over Modbus and reads the dials with the vision
 * library; the sequencer never sees a register or a pixel. Time is the port's: on the simulated
 * bench in lockstep it is the simulator's clock, advanced by wait_us. */
#ifndef MTB_BENCH_BENCH_IO_H
#define MTB_BENCH_BENCH_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One sample of the reference meter and the line's conditions. */
struct mtb_ref_obs {
	int64_t t_us;            /* bench clock */
	double flow_lph;
	int64_t totaliser_ul;    /* the reference's own count, uncorrected */
	double temp_ref_c;       /* water temperature at the reference */
	double temp_out_c;       /* at the outlet of the line of meters */
	double p_in_kpa;         /* absolute pressure at the inlet and the outlet */
	double p_out_kpa;
};

/* One reading of one meter's dial from one frame. */
struct mtb_dial_obs {
	int position;
	bool ok;                 /* false: the reader refused; reason says why */
	int64_t t_us;            /* the frame's instant on the bench clock */
	int64_t volume_ul;       /* the register's volume */
	double confidence;
	double resolution_l;     /* the step the reading resolves (e.g. a tenth of the finest division) */
	unsigned char *jpeg;     /* the frame as evidence (malloc'd, owned by the caller), or NULL */
	size_t jpeg_len;
	char reason[96];
};

struct mtb_bench_io_ops {
	int64_t (*now_us)(void *ctx);
	/* Lets dt_us of bench time pass (sleeps, or advances the lockstep clock). */
	int (*wait_us)(void *ctx, int64_t dt_us);
	/* Flow actuators: inlet on/off valve, control valve opening %, pump frequency Hz. */
	int (*set_inlet)(void *ctx, bool open);
	int (*set_valve_pct)(void *ctx, double pct);
	int (*set_pump_hz)(void *ctx, double hz);
	int (*read_reference)(void *ctx, struct mtb_ref_obs *out);
	/* Reads the dials of the meters at positions[0..n-1], one frame each, as close to one
	 * instant as the bench allows; each observation carries its own frame time. */
	int (*read_dials)(void *ctx, const int *positions, int n, struct mtb_dial_obs *out);
	/* Control valves closed, pump stopped, inlet closed; must work whatever state the run is in. */
	int (*safe_state)(void *ctx);
	/* Optional text describing the last failure, or NULL. */
	const char *(*last_error)(void *ctx);
};

struct mtb_bench_io {
	const struct mtb_bench_io_ops *ops;
	void *ctx;
};

#ifdef __cplusplus
}
#endif
#endif
