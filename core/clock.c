#include "core/clock.h"

#include <time.h>

static int64_t system_now_us(void *user)
{
	(void)user;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void system_sleep_us(void *user, int64_t dt_us)
{
	(void)user;
	struct timespec ts = { .tv_sec = dt_us / 1000000, .tv_nsec = (dt_us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) != 0)
		;
}

const struct mtb_clock mtb_clock_system = { system_now_us, system_sleep_us, 0 };

static int64_t manual_now_us(void *user) { return ((struct mtb_clock_manual *)user)->t_us; }
static void manual_sleep_us(void *user, int64_t dt_us) { ((struct mtb_clock_manual *)user)->t_us += dt_us; }

struct mtb_clock mtb_clock_manual_make(struct mtb_clock_manual *m)
{
	struct mtb_clock c = { manual_now_us, manual_sleep_us, m };
	return c;
}
