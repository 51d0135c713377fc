/* Benchmark (not a test): time per crop of the digit and pointer readers, everything included
 * that the bench pays per crop (resize, normalisation, network, decision), image decoding
 * excluded. usage: bench_vision DIGIT_DIR NEEDLE_DIR [ROUNDS]. scripts/bench.d/vision runs it
 * pinned to one core. */
#include "core/clock.h"
#include "vision/vision.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CROPS 512

static int load_dir(const char *dir, struct mtb_image **imgs)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < MAX_CROPS) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".jpg") != 0)
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		struct mtb_errbuf eb = { { 0 } };
		if (mtb_image_load(path, &imgs[n], &eb) == MTB_OK)
			n++;
	}
	closedir(d);
	return n;
}

static double cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Wall time per crop; *cpu gets the process CPU time per crop, which other jobs sharing the
 * core do not inflate. */
static double time_reads(struct mtb_vision *v, struct mtb_image **imgs, int n, int rounds, int digit, double *cpu)
{
	struct mtb_reading r;
	for (int i = 0; i < n; i++)   /* warm-up: first runs allocate */
		digit ? mtb_vision_read_digit(v, imgs[i], &r) : mtb_vision_read_needle(v, imgs[i], &r);
	int64_t t0 = mtb_clock_now_us(&mtb_clock_system);
	double c0 = cpu_us();
	for (int k = 0; k < rounds; k++)
		for (int i = 0; i < n; i++)
			digit ? mtb_vision_read_digit(v, imgs[i], &r) : mtb_vision_read_needle(v, imgs[i], &r);
	int64_t t1 = mtb_clock_now_us(&mtb_clock_system);
	*cpu = (cpu_us() - c0) / ((double)rounds * n);
	return (double)(t1 - t0) / ((double)rounds * n);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_vision DIGIT_DIR NEEDLE_DIR [ROUNDS]\n");
		return 2;
	}
	int rounds = argc > 3 ? atoi(argv[3]) : 10;
	static struct mtb_image *digits[MAX_CROPS], *needles[MAX_CROPS];
	int nd = load_dir(argv[1], digits), nn = load_dir(argv[2], needles);
	struct mtb_vision *v;
	struct mtb_errbuf eb = { { 0 } };
	if (nd == 0 || nn == 0 || mtb_vision_create(&v, NULL, &eb) != MTB_OK) {
		fprintf(stderr, "bench_vision: no crops or no models: %s\n", eb.msg);
		return 1;
	}
	double cpu, wall = time_reads(v, digits, nd, rounds, 1, &cpu);
	printf("digit  : %7.1f us CPU, %7.1f us wall per crop (%d crops x %d rounds, every view and network of the reader)\n", cpu, wall, nd, rounds);
	wall = time_reads(v, needles, nn, rounds, 0, &cpu);
	printf("needle : %7.1f us CPU, %7.1f us wall per crop (%d crops x %d rounds, every view and network of the reader)\n", cpu, wall, nn, rounds);
	mtb_vision_destroy(v);
	for (int i = 0; i < nd; i++)
		mtb_image_destroy(digits[i]);
	for (int i = 0; i < nn; i++)
		mtb_image_destroy(needles[i]);
	return 0;
}
