/* Balance reply parsers; see balance_parse.h. */
#include "hal/balance_parse.h"

#include "core/decimal.h"

#include <string.h>

#define WHY(text) (why ? (*why = (text), 0) : 0)

/* Strips one trailing "\r\n", "\n" or "\r". */
static size_t trim_eol(const char *s, size_t len)
{
	if (len && s[len - 1] == '\n')
		len--;
	if (len && s[len - 1] == '\r')
		len--;
	return len;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* "[sign][spaces]digits[.digits] unit" in s[0..len) (leading spaces skipped) -> mg. */
static int parse_mass(const char *s, size_t len, int64_t *mg, const char **why)
{
	size_t i = 0;
	while (i < len && s[i] == ' ')
		i++;
	char num[32];
	size_t n = 0;
	if (i < len && (s[i] == '+' || s[i] == '-')) {
		num[n++] = s[i++];
		while (i < len && s[i] == ' ')   /* "+ 0.500 kg": sign apart from the digits */
			i++;
	}
	size_t digits = 0;
	bool dot = false;
	while (i < len && (is_digit(s[i]) || (s[i] == '.' && !dot))) {
		if (n + 1 >= sizeof num)
			return WHY("number too long"), MTB_ERR_PROTO;
		dot |= s[i] == '.';
		digits += is_digit(s[i]);
		num[n++] = s[i++];
	}
	num[n] = '\0';
	if (digits == 0)
		return WHY("no number"), MTB_ERR_PROTO;
	if (i >= len || s[i] != ' ')
		return WHY("no space before the unit"), MTB_ERR_PROTO;
	while (i < len && s[i] == ' ')
		i++;
	size_t ulen = len - i;
	while (ulen && s[i + ulen - 1] == ' ')
		ulen--;
	unsigned scale;
	if (ulen == 2 && memcmp(s + i, "kg", 2) == 0)
		scale = 6;
	else if (ulen == 1 && s[i] == 'g')
		scale = 3;
	else if (ulen == 2 && memcmp(s + i, "mg", 2) == 0)
		scale = 0;
	else
		return WHY("unknown unit (mg, g, kg)"), MTB_ERR_PROTO;
	if (mtb_decimal_parse(num, scale, mg) != MTB_OK)
		return WHY("number out of range"), MTB_ERR_PROTO;
	return MTB_OK;
}

int mtb_balance_parse_sics(const char *line, size_t len, struct mtb_balance_reading *out, const char **why)
{
	if (!line || !out)
		return WHY("no input"), MTB_ERR_ARG;
	len = trim_eol(line, len);
	if (memchr(line, '\0', len) || memchr(line, '\n', len) || memchr(line, '\r', len))
		return WHY("control characters in the reply"), MTB_ERR_PROTO;
	if (len == 2 && line[0] == 'E' && (line[1] == 'S' || line[1] == 'T' || line[1] == 'L'))
		return WHY(line[1] == 'S' ? "syntax error (ES)" : line[1] == 'T' ? "transmission error (ET)" : "logical error (EL)"),
		       MTB_ERR_REFUSED;
	if (len < 3 || line[0] != 'S' || line[1] != ' ')
		return WHY("not a reply to S or SI"), MTB_ERR_PROTO;
	char status = line[2];
	if (len == 3) {
		if (status == 'I')
			return WHY("balance busy (S I)"), MTB_ERR_REFUSED;
		if (status == '+')
			return WHY("overload (S +)"), MTB_ERR_RANGE;
		if (status == '-')
			return WHY("underload (S -)"), MTB_ERR_RANGE;
		return WHY("unknown status"), MTB_ERR_PROTO;
	}
	if (status != 'S' && status != 'D')
		return WHY("unknown status"), MTB_ERR_PROTO;
	if (line[3] != ' ')
		return WHY("no space after the status"), MTB_ERR_PROTO;
	int rc = parse_mass(line + 4, len - 4, &out->mass_mg, why);
	if (rc != MTB_OK)
		return rc;
	out->stable = status == 'S';
	return MTB_OK;
}

int mtb_balance_parse_line(const char *line, size_t len, struct mtb_balance_reading *out, const char **why)
{
	if (!line || !out)
		return WHY("no input"), MTB_ERR_ARG;
	len = trim_eol(line, len);
	if (memchr(line, '\0', len) || memchr(line, '\n', len) || memchr(line, '\r', len))
		return WHY("control characters in the line"), MTB_ERR_PROTO;
	bool stable = true;
	size_t i = 0;
	/* Up to two two-letter headers, each followed by a comma. */
	for (int h = 0; h < 2 && i + 3 <= len && line[i + 2] == ',' && line[i] >= 'A' && line[i] <= 'Z' &&
			line[i + 1] >= 'A' && line[i + 1] <= 'Z';
	     h++) {
		if (h == 0) {
			if (memcmp(line + i, "OL", 2) == 0)
				return WHY("overload (OL)"), MTB_ERR_RANGE;
			if (memcmp(line + i, "US", 2) == 0)
				stable = false;
			else if (memcmp(line + i, "ST", 2) != 0 && memcmp(line + i, "QT", 2) != 0)
				return WHY("unknown header"), MTB_ERR_PROTO;
		}
		i += 3;
	}
	int rc = parse_mass(line + i, len - i, &out->mass_mg, why);
	if (rc != MTB_OK)
		return rc;
	out->stable = stable;
	return MTB_OK;
}

/* The command errors every SICS command may get instead of its reply. */
static bool command_error(const char *line, size_t len, const char **why)
{
	if (len == 2 && line[0] == 'E' && (line[1] == 'S' || line[1] == 'T' || line[1] == 'L')) {
		WHY(line[1] == 'S' ? "syntax error (ES)" : line[1] == 'T' ? "transmission error (ET)" : "logical error (EL)");
		return true;
	}
	return false;
}

int mtb_balance_parse_sics_tare(const char *line, size_t len, int64_t *tare_mg, const char **why)
{
	if (!line || !tare_mg)
		return WHY("no input"), MTB_ERR_ARG;
	len = trim_eol(line, len);
	if (memchr(line, '\0', len) || memchr(line, '\n', len) || memchr(line, '\r', len))
		return WHY("control characters in the reply"), MTB_ERR_PROTO;
	if (command_error(line, len, why))
		return MTB_ERR_REFUSED;
	if (len < 3 || line[0] != 'T' || line[1] != ' ')
		return WHY("not a reply to T"), MTB_ERR_PROTO;
	if (len == 3) {
		if (line[2] == 'I')
			return WHY("not stable: tare not taken (T I)"), MTB_ERR_REFUSED;
		if (line[2] == '+' || line[2] == '-')
			return WHY(line[2] == '+' ? "above the tare range (T +)" : "below the tare range (T -)"), MTB_ERR_RANGE;
		return WHY("unknown status"), MTB_ERR_PROTO;
	}
	if (line[2] != 'S' || line[3] != ' ')
		return WHY("unknown status"), MTB_ERR_PROTO;
	return parse_mass(line + 4, len - 4, tare_mg, why);
}

int mtb_balance_parse_sics_zero(const char *line, size_t len, const char **why)
{
	if (!line)
		return WHY("no input"), MTB_ERR_ARG;
	len = trim_eol(line, len);
	if (memchr(line, '\0', len) || memchr(line, '\n', len) || memchr(line, '\r', len))
		return WHY("control characters in the reply"), MTB_ERR_PROTO;
	if (command_error(line, len, why))
		return MTB_ERR_REFUSED;
	if (len != 3 || line[0] != 'Z' || line[1] != ' ')
		return WHY("not a reply to Z"), MTB_ERR_PROTO;
	switch (line[2]) {
	case 'A': return MTB_OK;
	case 'I': return WHY("not stable: not zeroed (Z I)"), MTB_ERR_REFUSED;
	case '+': return WHY("above the zero range (Z +)"), MTB_ERR_RANGE;
	case '-': return WHY("below the zero range (Z -)"), MTB_ERR_RANGE;
	default: return WHY("unknown status"), MTB_ERR_PROTO;
	}
}
