/* The simulated balance's MT-SICS replies (sim/sim_sics.h). */
#include "sim/sim_sics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* "<value> g" of a mass in the balance's steps: grams with as many decimals as the step needs. */
static void weight_field(double mg, int64_t step_mg, char *out, size_t cap)
{
	if (step_mg < 1 || step_mg > 1000000)
		step_mg = 1;
	if (!(mg > -1e15 && mg < 1e15))   /* NaN or beyond any balance */
		mg = mg > 0 ? 1e15 : -1e15;
	long long steps = llround(mg / (double)step_mg);
	long long v_mg = steps * step_mg;
	int decimals = step_mg >= 1000 ? 0 : step_mg >= 100 ? 1 : step_mg >= 10 ? 2 : 3;
	long long div = decimals == 0 ? 1000 : decimals == 1 ? 100 : decimals == 2 ? 10 : 1;
	long long q = v_mg / div;   /* in units of the last decimal */
	long long a = q < 0 ? -q : q;
	long long p10 = decimals == 0 ? 1 : decimals == 1 ? 10 : decimals == 2 ? 100 : 1000;
	char num[40];
	if (decimals)
		snprintf(num, sizeof num, "%s%lld.%0*lld", q < 0 ? "-" : "", a / p10, decimals, a % p10);
	else
		snprintf(num, sizeof num, "%s%lld", q < 0 ? "-" : "", a);
	snprintf(out, cap, "%10s g", num);
}

static bool is(const char *line, size_t len, const char *cmd)
{
	return len == strlen(cmd) && memcmp(line, cmd, len) == 0;
}

size_t mtb_sim_sics_reply(const char *line, size_t len, const struct mtb_sim_balance_now *now,
			  struct mtb_sim_balance_state *st, char *out, size_t cap)
{
	if (!out || cap < 48)
		return 0;
	out[0] = '\0';
	if (!line || !now || !st)
		return 0;
	while (len && line[len - 1] == ' ')
		len--;
	bool over = now->gross_mg > now->capacity_mg;
	bool under = now->gross_mg - st->zero_mg < -0.02 * now->capacity_mg;
	char w[40];
	int n;
	if (is(line, len, "S") || is(line, len, "SI")) {
		bool immediate = len == 2;
		if (over || under)
			n = snprintf(out, cap, "S %c", over ? '+' : '-');
		else if (!now->stable && !immediate)
			n = snprintf(out, cap, "S I");
		else {
			weight_field(now->gross_mg - st->zero_mg - st->tare_mg, now->step_mg, w, sizeof w);
			n = snprintf(out, cap, "S %c %s", now->stable ? 'S' : 'D', w);
		}
	} else if (is(line, len, "Z")) {
		if (over || under)
			n = snprintf(out, cap, "Z %c", over ? '+' : '-');
		else if (!now->stable)
			n = snprintf(out, cap, "Z I");
		else {
			st->zero_mg = now->gross_mg;
			st->tare_mg = 0;
			n = snprintf(out, cap, "Z A");
		}
	} else if (is(line, len, "T")) {
		if (over || under)
			n = snprintf(out, cap, "T %c", over ? '+' : '-');
		else if (!now->stable)
			n = snprintf(out, cap, "T I");
		else {
			st->tare_mg = now->gross_mg - st->zero_mg;
			weight_field(st->tare_mg, now->step_mg, w, sizeof w);
			n = snprintf(out, cap, "T S %s", w);
		}
	} else if (is(line, len, "@") || is(line, len, "I4")) {
		if (len == 1)
			st->tare_mg = 0;
		n = snprintf(out, cap, "I4 A \"%s\"", MTB_SIM_BALANCE_SERIAL);
	} else {
		n = snprintf(out, cap, "ES");
	}
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}
