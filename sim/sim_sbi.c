/* The simulated balance's SBI side (sim/sim_sbi.h). */
#include "sim/sim_sbi.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool mtb_sim_sbi_feed(struct mtb_sim_sbi_rx *rx, char c, char *cmd, size_t cap)
{
	if (!rx || !cmd || cap < sizeof rx->buf)
		return false;
	if (c == 0x1b) {   /* a new command; an unfinished one is dropped */
		rx->in_cmd = true;
		rx->len = 0;
		return false;
	}
	if (!rx->in_cmd)
		return false;   /* CR, LF or noise between commands */
	if (rx->len == 0) {
		if (c >= 'A' && c <= 'Z') {   /* format 1: complete */
			cmd[0] = c;
			cmd[1] = '\0';
			rx->in_cmd = false;
			return true;
		}
		if (!(c >= 'a' && c <= 'z')) {
			rx->in_cmd = false;
			return false;
		}
	}
	if (rx->len + 1 >= sizeof rx->buf) {
		rx->in_cmd = false;
		return false;
	}
	rx->buf[rx->len++] = c;
	if (c != '_')
		return false;
	memcpy(cmd, rx->buf, rx->len);
	cmd[rx->len] = '\0';
	rx->in_cmd = false;
	return true;
}

/* The value field: the net mass in the step's resolution in grams, or in kg rounded to what
 * 8 columns hold when grams do not fit; and its unit. */
static void value_field(double mg, int64_t step_mg, char *num, size_t cap, const char **unit)
{
	if (step_mg < 1 || step_mg > 1000000)
		step_mg = 1;
	if (!(mg > -1e15 && mg < 1e15))
		mg = mg > 0 ? 1e15 : -1e15;
	long long a = llabs(llround(mg / (double)step_mg) * step_mg);
	int dec = step_mg >= 1000 ? 0 : step_mg >= 100 ? 1 : step_mg >= 10 ? 2 : 3;
	static const long long P10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };
	*unit = "g";
	int n = dec ? snprintf(num, cap, "%lld.%0*lld", a / 1000, dec, (a % 1000) / P10[3 - dec])
		    : snprintf(num, cap, "%lld", a / 1000);
	if (n > 0 && n <= 8)
		return;
	*unit = "kg";
	int whole_digits = snprintf(NULL, 0, "%lld", a / 1000000);
	int d = 8 - whole_digits - 1;
	if (d > dec + 3)
		d = dec + 3;
	if (d < 1) {
		if (whole_digits <= 8)
			snprintf(num, cap, "%lld", (a + 500000) / 1000000);
		else
			snprintf(num, cap, "99999999");   /* beyond any balance's display */
		return;
	}
	long long q = (a + P10[6 - d] / 2) / P10[6 - d];   /* units of 10^-d kg, half away from zero */
	snprintf(num, cap, "%lld.%0*lld", q / P10[d], d, q % P10[d]);
}

static void carry_out(const struct mtb_sim_balance_now *now, struct mtb_sim_sbi_state *st)
{
	if (!now->stable)
		return;
	if (st->zero_pending) {
		st->b.zero_mg = now->gross_mg;
		st->b.tare_mg = 0;
	}
	if (st->tare_pending)
		st->b.tare_mg = now->gross_mg - st->b.zero_mg;
	st->zero_pending = st->tare_pending = false;
}

size_t mtb_sim_sbi_reply(const char *cmd, const struct mtb_sim_balance_now *now, struct mtb_sim_sbi_state *st,
			 bool id, char *out, size_t cap)
{
	if (!out || cap < 32)
		return 0;
	out[0] = '\0';
	if (!cmd || !now || !st)
		return 0;
	bool over = now->gross_mg > now->capacity_mg;
	bool under = now->gross_mg - st->b.zero_mg < -0.02 * now->capacity_mg;
	if (strcmp(cmd, "T") == 0) {
		bool near_zero = fabs(now->gross_mg - st->b.zero_mg) <= 0.02 * now->capacity_mg;
		if (near_zero)
			st->zero_pending = true;
		else
			st->tare_pending = true;
	} else if (strcmp(cmd, "U") == 0) {
		st->tare_pending = true;
	} else if (strcmp(cmd, "V") == 0) {
		st->zero_pending = true;
	} else if (strcmp(cmd, "S") == 0) {
		st->b.tare_mg = 0;
		st->tare_pending = st->zero_pending = false;
		return 0;
	}
	if (!over && !under)
		carry_out(now, st);
	if (strcmp(cmd, "P") != 0)
		return 0;
	const char *head = !id ? "" : st->b.tare_mg != 0 ? "N     " : "G#    ";
	int n;
	if (over || under) {
		n = snprintf(out, cap, "%s  %8s    ", head, over ? "H" : "L");
	} else {
		double net = now->gross_mg - st->b.zero_mg - st->b.tare_mg;
		char num[32];
		const char *unit;
		value_field(net, now->step_mg, num, sizeof num, &unit);
		bool neg = net < 0 && strspn(num, "0.") != strlen(num);   /* no "-0.0" */
		n = snprintf(out, cap, "%s%c %8s %-3s", head, neg ? '-' : '+', num, now->stable ? unit : "");
	}
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}
