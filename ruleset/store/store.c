/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The file datastore: one JSON file per resource under DIR, at the path of
 * its etcd key (DIR/calico/resources/v3/projectcalico.org/<plural>/...),
 * so that both datastores share one layout. Writes go to a temporary file
 * that is fsynced and renamed over the old one, then the directory is
 * fsynced; writers serialise on an flock()ed DIR/.lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))

struct store {
	char *dir;
	int dirfd;
	int lockfd;
	bool locked;
};

static int mkdir_p(char *path, mode_t mode)
{
	/* one call when the directory is there (every resource but the
	 * first of its kind) */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST) {
			int e = -errno;

			*p = '/';
			return e;
		}
		*p = '/';
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int store_open(const char *dir, struct store **ret)
{
	struct store *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->dirfd = s->lockfd = -1;
	s->dir = strdup(dir);
	if (!s->dir) {
		free(s);
		return -ENOMEM;
	}
	r = mkdir_p(s->dir, 0700);
	if (r < 0)
		goto fail;
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		r = -errno;
		goto fail;
	}
	/* The policies are the node's defences: not for every user to read.
	 * A store made by an older nftmgr (0755) is closed on open, when it
	 * is ours to change. */
	(void)fchmod(s->dirfd, 0700);
	*ret = s;
	return 0;
fail:
	store_free(s);
	return r;
}

struct store *store_free(struct store *s)
{
	if (!s)
		return NULL;
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->dir);
	free(s);
	return NULL;
}

int store_lock(struct store *s)
{
	if (s->locked)
		return 0;
	if (s->lockfd < 0) {
		s->lockfd = openat(s->dirfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
				   0600);
		if (s->lockfd < 0)
			return -errno;
	}
	while (flock(s->lockfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	s->locked = true;
	return 0;
}

void store_unlock(struct store *s)
{
	if (s->locked)
		(void)flock(s->lockfd, LOCK_UN);
	s->locked = false;
}

/* A name from the command line must not walk out of the store. */
static bool safe_component(const char *s)
{
	return s && *s && s[0] != '.' && !strchr(s, '/') && strlen(s) <= 253;
}

/* Path of a resource relative to the store directory. */
static char *rel_path(enum res_kind kind, const char *ns, const char *name)
{
	char *key;

	if (!safe_component(name) || (ns && !safe_component(ns)))
		return NULL;
	key = resource_key(kind, ns, name);
	if (key)
		memmove(key, key + 1, strlen(key)); /* drop the leading / */
	return key;
}

static char *kind_dir(enum res_kind kind, const char *ns)
{
	char *p;
	int r;

	if (ns)
		r = asprintf(&p, "calico/resources/v3/projectcalico.org/%s/%s",
			     kind_info(kind)->plural, ns);
	else
		r = asprintf(&p, "calico/resources/v3/projectcalico.org/%s",
			     kind_info(kind)->plural);
	return r < 0 ? NULL : p;
}

int store_exists(struct store *s, enum res_kind kind, const char *ns, const char *name)
{
	_cleanup_free_ char *p = rel_path(kind, ns, name);
	struct stat st;

	if (!p)
		return -EINVAL;
	if (fstatat(s->dirfd, p, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
}

static int fsync_dir_of(struct store *s, const char *rel)
{
	_cleanup_free_ char *dir = strdup(rel);
	char *slash;
	int fd, r = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	fd = openat(s->dirfd, slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes r to a new temporary file beside its path (durable with sync):
 * *tmp and *abs are the caller's. */
static int put_tmp(struct store *s, const struct resource *r, bool sync, char **tmp, char **abs)
{
	const struct kind_info *k = kind_info(r->kind);
	_cleanup_free_ char *rel = rel_path(r->kind, k->namespaced ? r->namespace : NULL, r->name);
	_cleanup_free_ char *json = NULL;
	char *slash;
	int fd, e;

	*tmp = *abs = NULL;
	if (!rel)
		return -EINVAL;
	json = resource_to_storage_json(r);
	if (!json || asprintf(abs, "%s/%s", s->dir, rel) < 0)
		return -ENOMEM;
	slash = strrchr(*abs, '/');
	*slash = '\0';
	e = mkdir_p(*abs, 0700);
	if (e == 0 && asprintf(tmp, "%s/.%s.XXXXXX", *abs, slash + 1) < 0)
		e = -ENOMEM;
	*slash = '/';
	if (e < 0)
		return e;
	fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd < 0) {
		free(*tmp);
		*tmp = NULL;
		return -errno;
	}
	e = write_all(fd, json, strlen(json));
	if (e == 0 && write_all(fd, "\n", 1) < 0)
		e = -EIO;
	if (e == 0 && fchmod(fd, 0600) < 0)
		e = -errno;
	if (e == 0 && sync && fsync(fd) < 0)
		e = -errno;
	if (close(fd) < 0 && e == 0)
		e = -errno;
	return e;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every directory of abs[0..n) fsynced once. */
static int fsync_dirs(char **abs, size_t n)
{
	char **dirs = malloc((n ? n : 1) * sizeof(*dirs));
	size_t k = 0;
	int r = 0;

	if (!dirs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (abs[i] && (dirs[k] = strdup(abs[i])))
			*strrchr(dirs[k++], '/') = '\0';
	qsort(dirs, k, sizeof(*dirs), cmp_str);
	for (size_t i = 0; i < k; i++) {
		int fd;

		if ((i && strcmp(dirs[i], dirs[i - 1]) == 0) || r < 0)
			continue;
		fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0)
			r = -errno;
		if (fd >= 0)
			close(fd);
	}
	for (size_t i = 0; i < k; i++)
		free(dirs[i]);
	free(dirs);
	return r;
}

int store_put_many(struct store *s, struct resource *const *v, size_t n, size_t *done)
{
	char **tmp = calloc(n ? n : 1, sizeof(*tmp)), **abs = calloc(n ? n : 1, sizeof(*abs));
	size_t i = 0;
	int e = tmp && abs ? 0 : -ENOMEM;

	*done = 0;
	for (; e == 0 && i < n; i++)
		e = put_tmp(s, v[i], false, &tmp[i], &abs[i]);
	/* all the new files durable at once, then each renamed into place */
	if (e == 0 && syncfs(s->dirfd) < 0)
		e = -errno;
	for (size_t k = 0; e == 0 && k < n; k++) {
		if (rename(tmp[k], abs[k]) < 0) {
			e = -errno;
			break;
		}
		free(tmp[k]);
		tmp[k] = NULL;
		(*done)++;
	}
	if (e == 0)
		e = fsync_dirs(abs, n);
	for (size_t k = 0; tmp && abs && k < n; k++) {
		if (tmp[k])
			unlink(tmp[k]);
		free(tmp[k]);
		free(abs[k]);
	}
	free(tmp);
	free(abs);
	return e;
}

int store_put(struct store *s, const struct resource *r)
{
	const struct kind_info *k = kind_info(r->kind);
	_cleanup_free_ char *rel = rel_path(r->kind, k->namespaced ? r->namespace : NULL, r->name);
	_cleanup_free_ char *tmp = NULL, *abs = NULL;
	int e;

	if (!rel)
		return -EINVAL;
	e = put_tmp(s, r, true, &tmp, &abs);
	if (e == 0 && rename(tmp, abs) < 0)
		e = -errno;
	if (e < 0) {
		if (tmp)
			unlink(tmp);
		return e;
	}
	return fsync_dir_of(s, rel);
}

int store_delete(struct store *s, enum res_kind kind, const char *ns, const char *name)
{
	_cleanup_free_ char *rel =
		rel_path(kind, kind_info(kind)->namespaced ? (ns ? ns : "default") : NULL, name);

	if (!rel)
		return -EINVAL;
	if (unlinkat(s->dirfd, rel, 0) < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	return fsync_dir_of(s, rel);
}

static int load_one(struct store *s, const char *rel, struct resource_list *out, struct diags *d)
{
	_cleanup_free_ char *abs = NULL, *buf = NULL;
	struct resource *r = NULL;
	size_t len;
	int e;

	if (asprintf(&abs, "%s/%s", s->dir, rel) < 0)
		return -ENOMEM;
	e = ruleset_read_file(abs, &buf, &len);
	if (e < 0) {
		diags_add(d, abs, (struct pos){ 0, 0 }, NULL, NULL, "%s", strerror(-e));
		return 0;
	}
	e = resource_from_storage(abs, buf, len, &r, d);
	if (e == -ENOMEM)
		return e;
	if (e < 0)
		return 0; /* reported, skipped */
	return resource_list_add(out, r);
}

int store_get(struct store *s, enum res_kind kind, const char *ns, const char *name,
	      struct resource **ret, struct diags *d)
{
	_cleanup_free_ char *rel =
		rel_path(kind, kind_info(kind)->namespaced ? (ns ? ns : "default") : NULL, name);
	struct resource_list l = { 0 };
	int e;

	if (!rel)
		return -EINVAL;
	if (faccessat(s->dirfd, rel, F_OK, 0) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	e = load_one(s, rel, &l, d);
	if (e == 0 && l.n == 1) {
		*ret = l.v[0];
		l.v[0] = NULL;
		l.n = 0;
		e = 1;
	} else if (e == 0) {
		e = -EINVAL; /* there, but unreadable: reported in d */
	}
	resource_list_clear(&l);
	return e;
}

static int files_in(struct store *s, const char *rel, bool dirs, struct dirent ***ret)
{
	int fd = openat(s->dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir;
	struct dirent *e, **v = NULL;
	int n = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(dir))) {
		struct dirent **nv;

		unsigned char type = e->d_type;

		if (e->d_name[0] == '.')
			continue;
		/* Some file systems do not fill d_type in. */
		if (type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : 0;
		}
		if (dirs ? type != DT_DIR : type != DT_REG)
			continue;
		if (n >= (int)RULESET_MAX_FILES * 10)
			break;
		nv = realloc(v, (size_t)(n + 1) * sizeof(*v));
		if (nv)
			v = nv;
		if (!nv || !(v[n] = malloc(sizeof(*e)))) {
			while (n-- > 0)
				free(v[n]);
			free(v);
			closedir(dir);
			return -ENOMEM;
		}
		memcpy(v[n], e, sizeof(*e));
		n++;
	}
	closedir(dir);
	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v), (int (*)(const void *, const void *))alphasort);
	*ret = v;
	return n;
}

static int list_dir(struct store *s, const char *rel, struct resource_list *out, struct diags *d)
{
	struct dirent **v = NULL;
	int n = files_in(s, rel, false, &v), r = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *p = NULL;

		if (r == 0 && asprintf(&p, "%s/%s", rel, v[i]->d_name) < 0)
			r = -ENOMEM;
		if (r == 0)
			r = load_one(s, p, out, d);
		free(v[i]);
	}
	free(v);
	return r;
}

int store_list(struct store *s, enum res_kind kind, const char *ns, struct resource_list *out,
	       struct diags *d)
{
	_cleanup_free_ char *rel = NULL;
	struct dirent **v = NULL;
	int n, r = 0;

	if (!kind_info(kind)->namespaced || ns) {
		if (ns && !safe_component(ns))
			return -EINVAL;
		rel = kind_dir(kind, kind_info(kind)->namespaced ? ns : NULL);
		return rel ? list_dir(s, rel, out, d) : -ENOMEM;
	}
	rel = kind_dir(kind, NULL);
	if (!rel)
		return -ENOMEM;
	n = files_in(s, rel, true, &v);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *sub = NULL;

		if (r == 0 && asprintf(&sub, "%s/%s", rel, v[i]->d_name) < 0)
			r = -ENOMEM;
		if (r == 0)
			r = list_dir(s, sub, out, d);
		free(v[i]);
	}
	free(v);
	return r;
}

int store_list_all(struct store *s, struct resource_list *out, struct diags *d)
{
	for (int k = 0; k < RES_KIND_MAX; k++) {
		int r = store_list(s, k, NULL, out, d);

		if (r < 0)
			return r;
	}
	return 0;
}
