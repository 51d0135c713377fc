#include "core/sha256.h"

#include "core/err.h"

#include <openssl/evp.h>
#include <stdio.h>

int mtb_sha256_hex_parts(const void *const *parts, const size_t *lens, int n, char hex[MTB_SHA256_HEX_LEN + 1])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return MTB_ERR_NOMEM;
	unsigned char md[32];
	unsigned int md_len = 0;
	int ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (int i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, parts[i], lens[i]);
	ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len);
	EVP_MD_CTX_free(ctx);
	if (!ok || md_len != 32)
		return MTB_ERR_NOMEM;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return MTB_OK;
}

int mtb_sha256_hex(const void *data, size_t len, char hex[MTB_SHA256_HEX_LEN + 1])
{
	const void *parts[1] = { data };
	return mtb_sha256_hex_parts(parts, &len, 1, hex);
}
