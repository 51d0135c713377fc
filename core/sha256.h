/* meterbench core: SHA-256 (OpenSSL libcrypto), for evidence images stored by content hash and
 * the hash-chained audit log. */
#ifndef MTB_CORE_SHA256_H
#define MTB_CORE_SHA256_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MTB_SHA256_HEX_LEN 64

/* Lower-case hex digest of data into hex (65 bytes with the NUL). Returns MTB_OK or MTB_ERR_NOMEM. */
int mtb_sha256_hex(const void *data, size_t len, char hex[MTB_SHA256_HEX_LEN + 1]);

/* Digest of several buffers concatenated, without copying them. */
int mtb_sha256_hex_parts(const void *const *parts, const size_t *lens, int n, char hex[MTB_SHA256_HEX_LEN + 1]);

#ifdef __cplusplus
}
#endif
#endif
