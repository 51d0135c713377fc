/* meterbench core: an injectable monotonic clock.
 * Everything that times, waits or timestamps takes a struct mtb_clock, so the simulator's
 * lockstep clock and the tests' manual clock replace the system's without code changes. */
#ifndef MTB_CORE_CLOCK_H
#define MTB_CORE_CLOCK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_clock {
	int64_t (*now_us)(void *user);               /* monotonic microseconds */
	void (*sleep_us)(void *user, int64_t dt_us); /* may be NULL: sleeping is then a no-op */
	void *user;
};

/* The system's CLOCK_MONOTONIC, with nanosleep. */
extern const struct mtb_clock mtb_clock_system;

static inline int64_t mtb_clock_now_us(const struct mtb_clock *c) { return c->now_us(c->user); }
static inline void mtb_clock_sleep_us(const struct mtb_clock *c, int64_t dt_us)
{
	if (c->sleep_us && dt_us > 0)
		c->sleep_us(c->user, dt_us);
}

/* A clock that only moves when told to: tests set t_us, sleep advances it. */
struct mtb_clock_manual {
	int64_t t_us;
};
struct mtb_clock mtb_clock_manual_make(struct mtb_clock_manual *m);

#ifdef __cplusplus
}
#endif
#endif
