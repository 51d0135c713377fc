/* Camera driver: replay of a directory of images (dir:///path), in file-name order, starting
 * over after the last. Useful to re-run readings on recorded evidence. */
#include "hal/camera_priv.h"

#include "core/yaml_load.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct replay {
	char dir[240];
	char **files;
	int n, next;
};

static int is_image(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (!dot)
		return 0;
	static const char *const exts[] = { ".jpg", ".jpeg", ".png", ".bmp", ".JPG", ".JPEG", ".PNG", ".BMP" };
	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
		if (strcmp(dot, exts[i]) == 0)
			return 1;
	return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void free_replay(struct replay *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->files[i]);
	free(r->files);
	free(r);
}

static int dir_open(struct mtb_camera *cam, struct mtb_errbuf *eb)
{
	const char *path = cam->cfg.uri + strlen("dir://");
	if (path[0] != '/')
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': expected dir:///absolute/path", cam->cfg.uri);
	struct replay *r = calloc(1, sizeof *r);
	if (!r)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "out of memory");
	snprintf(r->dir, sizeof r->dir, "%s", path);
	DIR *d = opendir(path);
	if (!d) {
		free(r);
		return mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "cannot open directory %s", path);
	}
	int cap = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.' || !is_image(e->d_name))
			continue;
		if (r->n == cap) {
			cap = cap ? cap * 2 : 16;
			char **f = realloc(r->files, (size_t)cap * sizeof *f);
			if (!f)
				break;
			r->files = f;
		}
		r->files[r->n] = strdup(e->d_name);
		if (r->files[r->n])
			r->n++;
	}
	closedir(d);
	if (r->n == 0) {
		free_replay(r);
		return mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "no images (.jpg, .png, .bmp) in %s", path);
	}
	qsort(r->files, (size_t)r->n, sizeof *r->files, by_name);
	cam->priv = r;
	return MTB_OK;
}

static int dir_grab(struct mtb_camera *cam, struct mtb_image **out, struct mtb_errbuf *eb)
{
	struct replay *r = cam->priv;
	char path[600];
	snprintf(path, sizeof path, "%s/%s", r->dir, r->files[r->next]);
	r->next = (r->next + 1) % r->n;
	char *buf;
	size_t len;
	int rc = mtb_file_read(path, 64u << 20, &buf, &len, eb);
	if (rc != MTB_OK)
		return rc;
	char err[256] = "";
	rc = mtb_cv_decode((const uint8_t *)buf, len, out, err, sizeof err);
	free(buf);
	if (rc != MTB_OK)
		return mtb_errbuf_set(eb, rc, "%s: %s", path, err);
	(*out)->t_mono_us = mtb_clock_now_us(cam->clock);
	return MTB_OK;
}

static void dir_close(struct mtb_camera *cam) { free_replay(cam->priv); }

const struct mtb_camera_driver mtb_cam_dir = { "dir://", "dir", dir_open, dir_grab, dir_close };
