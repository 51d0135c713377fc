/* Replays a fuzz corpus through a target without libFuzzer: every file under the folders given
 * (one level deep) is fed to LLVMFuzzerTestOneInput once. A crash or sanitizer report fails the
 * test; so does an empty corpus, which would make the test unable to fail. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	uint8_t *buf = malloc(1 << 22);
	size_t n = buf ? fread(buf, 1, 1 << 22, f) : 0;
	fclose(f);
	if (!buf)
		return 0;
	/* Exact-size copy so ASan sees reads past the end. */
	uint8_t *exact = malloc(n ? n : 1);
	memcpy(exact, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 1;
}

int main(int argc, char **argv)
{
	int count = 0;
	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		if (!d) {
			count += run_file(argv[i]);
			continue;
		}
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
			count += run_file(path);
		}
		closedir(d);
	}
	printf("replayed %d inputs\n", count);
	return count > 0 ? 0 : 1;
}
