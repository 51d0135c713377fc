/* The Sartorius SBI frame parser; see balance_sbi.h. */
#include "hal/balance_sbi.h"

#include "core/decimal.h"

#include <string.h>

#define WHY(text) (why ? (*why = (text), 0) : 0)

static bool all(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(set, s[i]) || s[i] == '\0')
			return false;
	return true;
}

/* s[0..n) without leading and trailing spaces, into buf (NUL-terminated); false if too long. */
static bool trimmed(const char *s, size_t n, char *buf, size_t cap)
{
	while (n && *s == ' ')
		s++, n--;
	while (n && s[n - 1] == ' ')
		n--;
	if (n + 1 > cap)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

static int unit_scale(const char *unit, unsigned *scale)
{
	if (strcmp(unit, "kg") == 0)
		*scale = 6;
	else if (strcmp(unit, "g") == 0)
		*scale = 3;
	else if (strcmp(unit, "mg") == 0)
		*scale = 0;
	else
		return MTB_ERR_PROTO;
	return MTB_OK;
}

int mtb_balance_sbi_frame(const char *line, size_t len, struct mtb_sbi_frame *out, const char **why)
{
	if (!line || !out)
		return WHY("no frame"), MTB_ERR_PROTO;
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	if (memchr(line, '\0', len))
		return WHY("NUL byte in the frame"), MTB_ERR_PROTO;
	char id[8] = "";
	/* the 22-character form: a 6-character ID of letters, '#' and spaces in front */
	if (len == 20) {
		if (!all(line, 6, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#+- "))
			return WHY("bad ID header"), MTB_ERR_PROTO;
		trimmed(line, 6, id, sizeof id);
		line += 6;
		len -= 6;
	}
	if (len != 14)
		return WHY("not a 16- or 22-character SBI frame"), MTB_ERR_PROTO;
	char body[16];
	if (!trimmed(line, len, body, sizeof body))
		return WHY("frame too long"), MTB_ERR_PROTO;
	if (strcmp(body, "H") == 0 || strcmp(body, "HH") == 0)
		return WHY("overload"), MTB_ERR_RANGE;
	if (strcmp(body, "L") == 0 || strcmp(body, "LL") == 0)
		return WHY("underload"), MTB_ERR_RANGE;
	if (strcmp(body, "C") == 0)
		return WHY("adjustment running"), MTB_ERR_REFUSED;
	if (strncmp(body, "Err", 3) == 0) {
		const char *p = body + 3;
		while (*p == ' ')
			p++;
		if (*p && all(p, strlen(p), "0123456789"))
			return WHY("balance error display"), MTB_ERR_REFUSED;
		return WHY("malformed error display"), MTB_ERR_PROTO;
	}
	char sign = line[0];
	if (sign != '+' && sign != '-' && sign != ' ')
		return WHY("bad sign"), MTB_ERR_PROTO;
	if (!strchr(" []", line[1]) || !strchr(" []", line[10]))
		return WHY("bad bracket position"), MTB_ERR_PROTO;
	/* the value: spaces, then digits with at most one point, right-aligned in 8 columns */
	const char *v = line + 2;
	size_t i = 0;
	while (i < 8 && v[i] == ' ')
		i++;
	char num[12];
	size_t n = 0, digits = 0;
	int decimals = 0;
	bool dot = false;
	if (sign == '-')
		num[n++] = '-';
	for (; i < 8; i++) {
		if (v[i] >= '0' && v[i] <= '9') {
			digits++;
			decimals += dot;
		} else if (v[i] == '.' && !dot) {
			dot = true;
		} else {
			return WHY("bad character in the value"), MTB_ERR_PROTO;
		}
		num[n++] = v[i];
	}
	num[n] = '\0';
	if (digits == 0)
		return WHY("no digits in the value"), MTB_ERR_PROTO;
	int64_t check;
	if (mtb_decimal_parse(num, 6, &check) != MTB_OK)   /* kg, the largest scale: then every unit reads it */
		return WHY("bad value"), MTB_ERR_PROTO;
	char unit[4];
	trimmed(line + 11, 3, unit, sizeof unit);
	unsigned scale;
	if (unit[0] && unit_scale(unit, &scale) != MTB_OK)
		return WHY("unknown unit"), MTB_ERR_PROTO;
	memcpy(out->id, id, sizeof out->id);
	memcpy(out->value, num, n + 1);
	out->decimals = decimals;
	memcpy(out->unit, unit, sizeof out->unit);
	return MTB_OK;
}

int mtb_balance_sbi_mass_mg(const struct mtb_sbi_frame *f, const char *unit, int64_t *mass_mg)
{
	unsigned scale;
	if (!f || !unit || unit_scale(unit, &scale) != MTB_OK)
		return MTB_ERR_PROTO;
	return mtb_decimal_parse(f->value, scale, mass_mg) == MTB_OK ? MTB_OK : MTB_ERR_PROTO;
}

int mtb_balance_parse_sbi(const char *line, size_t len, struct mtb_balance_reading *out, const char **why)
{
	struct mtb_sbi_frame f;
	int rc = mtb_balance_sbi_frame(line, len, &f, why);
	if (rc != MTB_OK)
		return rc;
	if (f.unit[0] == '\0')
		return WHY("moving: no unit sent"), MTB_ERR_REFUSED;
	int64_t mg;
	if (mtb_balance_sbi_mass_mg(&f, f.unit, &mg) != MTB_OK)
		return WHY("bad value"), MTB_ERR_PROTO;
	out->mass_mg = mg;
	out->stable = true;
	return MTB_OK;
}
