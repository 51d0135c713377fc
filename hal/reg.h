/* meterbench hal: register codec. Turns the 16-bit registers of a Modbus device into values
 * and back, for every data type and byte/word order a bench file names (docs/bench-config.md).
 * Our own pure code: libmodbus's float helpers changed behaviour between releases (3.1.8
 * broke them, 3.1.11 fixed them; libmodbus #665, #757, #838), so they are never used. */
#ifndef MTB_HAL_REG_H
#define MTB_HAL_REG_H

#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mtb_reg_type {
	MTB_REG_BOOL = 0,   /* a coil or discrete input bit */
	MTB_REG_INT16,
	MTB_REG_UINT16,
	MTB_REG_INT32,
	MTB_REG_UINT32,
	MTB_REG_INT64,
	MTB_REG_UINT64,
	MTB_REG_FLOAT32,
	MTB_REG_FLOAT64,
};

/* Letters name the value's bytes from the most significant (A) down. On the wire each register
 * travels high byte first; the order says which value bytes land in which register bytes:
 * ABCD big-endian, CDAB word-swapped, BADC byte-swapped, DCBA little-endian. For 64-bit values
 * the same rule applies over four words (CDAB: words reversed, bytes in each word kept). For
 * 16-bit values only the byte swap matters (BADC and DCBA swap the two bytes). */
enum mtb_reg_order {
	MTB_REG_ABCD = 0,
	MTB_REG_CDAB,
	MTB_REG_BADC,
	MTB_REG_DCBA,
};

/* A decoded raw value, before scaling. */
struct mtb_reg_raw {
	enum mtb_reg_type type;
	union {
		int64_t i;   /* bool, int16, int32, int64 */
		uint64_t u;  /* uint16, uint32, uint64 */
		double f;    /* float32 (widened exactly), float64 */
	} v;
};

/* Number of 16-bit registers a type occupies (bool: 0, it is a bit). */
int mtb_reg_words(enum mtb_reg_type type);

/* Names as written in bench files ("float32", "CDAB"); NULL / -1 for unknown. */
const char *mtb_reg_type_name(enum mtb_reg_type type);
const char *mtb_reg_order_name(enum mtb_reg_order order);
int mtb_reg_type_parse(const char *text);     /* enum value or -1 */
int mtb_reg_order_parse(const char *text);    /* enum value or -1 */

/* Decodes mtb_reg_words(type) registers (as libmodbus returns them: host-order uint16 holding
 * the wire's high byte in bits 15..8). MTB_ERR_ARG for bool or an unknown type/order. */
int mtb_reg_decode(enum mtb_reg_type type, enum mtb_reg_order order, const uint16_t *words,
		   struct mtb_reg_raw *out);

/* Encodes a raw value into mtb_reg_words(type) registers; the inverse of mtb_reg_decode. */
int mtb_reg_encode(enum mtb_reg_order order, const struct mtb_reg_raw *raw, uint16_t *words);

/* Engineering value of a raw value: raw x scale (docs/bench-config.md). */
double mtb_reg_to_double(const struct mtb_reg_raw *raw, double scale);

/* Raw value for an engineering value: value / scale, rounded to the nearest integer for integer
 * types. MTB_ERR_RANGE when the result does not fit the type (or is not finite), MTB_ERR_ARG for
 * a bool other than 0/1. */
int mtb_reg_from_double(enum mtb_reg_type type, double value, double scale, struct mtb_reg_raw *out);

#ifdef __cplusplus
}
#endif
#endif
