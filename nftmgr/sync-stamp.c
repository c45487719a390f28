/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A one-shot sync that nothing can have changed for does nothing. After
 * each sync, a stamp in /run/nftmgr (one per network namespace) records
 * a digest of everything the compile reads (this binary, the node name,
 * the environment it reads, the config file, every file under -f PATH or
 * the file datastore, this machine's interfaces and addresses or the
 * --local-address given) and who the table then was: the ruleset's
 * generation after the commit (any transaction by anyone changes it), the
 * table's handle and incarnation (random bytes given when nftmgr creates
 * it). The next sync computes the digest, and if the stamp has the same
 * and the kernel the same three, it says so without loading, compiling or
 * reading back. etcd, --full, --confirm-within and --boot always sync.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netlink.h"
#include "nftmgr.h"

#define STAMP_DIR "/run/nftmgr"
#define MAX_DEPTH 8

extern char **environ;

static void mix(struct sync_digest *d, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		d->a = (d->a ^ c[i]) * 0x100000001b3ull;
		d->b = (d->b ^ c[i]) * 0x100000001b3ull;
	}
}

static void mix_str(struct sync_digest *d, const char *s)
{
	mix(d, s ? s : "", s ? strlen(s) + 1 : 1);
}

static int mix_file(struct sync_digest *d, const char *path)
{
	char buf[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	mix_str(d, path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		mix(d, buf, (size_t)n);
	close(fd);
	return n < 0 ? -EIO : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under path, in name order. */
static int mix_tree(struct sync_digest *d, const char *path, int depth)
{
	struct stat st;
	struct dirent **v = NULL;
	int n, r = 0;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? (mix_str(d, path), 0) : -errno;
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? mix_file(d, path) : 0;
	if (depth > MAX_DEPTH)
		return -ELOOP;
	n = scandir(path, &v, NULL, alphasort);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		char *sub = NULL;

		if (r == 0 && v[i]->d_name[0] != '.' &&
		    asprintf(&sub, "%s/%s", path, v[i]->d_name) >= 0)
			r = mix_tree(d, sub, depth + 1);
		free(sub);
		free(v[i]);
	}
	free(v);
	return r;
}

static void mix_env(struct sync_digest *d)
{
	static const char *const prefixes[] = { "NFTMGR_", "CALICO_", "DATASTORE_",
						"ETCD_",   "APIV1_",  "NODENAME=" };
	size_t n = 0;
	char **v;

	while (environ[n])
		n++;
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return;
	memcpy(v, environ, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++)
			if (strncmp(v[i], prefixes[k], strlen(prefixes[k])) == 0)
				mix_str(d, v[i]);
	free(v);
}

static void mix_ifaces(struct sync_digest *d, const struct local_iface *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		mix_str(d, v[i].name);
		for (size_t k = 0; k < v[i].n_addrs; k++) {
			mix(d, &v[i].addrs[k].family, 1);
			mix(d, &v[i].addrs[k].len, 1);
			mix(d, v[i].addrs[k].addr, sizeof(v[i].addrs[k].addr));
		}
	}
}

int sync_stamp_digest(struct ctx *ctx, const struct node_input *in, struct sync_digest *d)
{
	struct datastore *ds = NULL;
	struct local_iface *ifs = NULL;
	size_t n_ifs = 0;
	int r = 0;

	*d = (struct sync_digest){ 0xcbf29ce484222325ull, 0x84222325cbf29ce4ull };
	if (in->confirm_within || in->armed || in->boot)
		return -EOPNOTSUPP;
	r = mix_file(d, "/proc/self/exe");
	mix_str(d, node_name(ctx));
	mix_env(d);
	if (r == 0 && ctx->config_path)
		r = mix_file(d, ctx->config_path);
	for (size_t i = 0; r == 0 && i < in->n_paths; i++)
		r = mix_tree(d, in->paths[i], 0);
	if (r == 0 && !in->n_paths) {
		mix_str(d, "datastore");
		r = ds_open(ctx, &ds);
		if (r == 0)
			r = ds_etcd(ds) ? -EOPNOTSUPP : mix_tree(d, ds_where(ds), 0);
		ds_free(ds);
	}
	if (r == 0 && in->own_ifs) {
		mix_str(d, "local addresses");
		mix_ifaces(d, in->ifs, in->n_ifs);
	} else if (r == 0 && (r = ifaces_from_system(&ifs, &n_ifs)) == 0) {
		mix_ifaces(d, ifs, n_ifs);
		ifaces_free(ifs, n_ifs);
	}
	return r < 0 ? -EOPNOTSUPP : 0;
}

/* /run/nftmgr/sync-<dev>-<inode of this network namespace>. */
static int stamp_path(char *buf, size_t len)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		return -errno;
	snprintf(buf, len, STAMP_DIR "/sync-%ju-%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	return 0;
}

struct stamp {
	struct sync_digest d;
	char table[64];
	struct nl_table_id id;
};

static bool same_id(const struct nl_table_id *a, const struct nl_table_id *b)
{
	static const uint8_t zero[16];

	return a->exists && b->exists && a->genid == b->genid && a->handle == b->handle &&
	       memcmp(a->incarnation, zero, sizeof(zero)) != 0 &&
	       memcmp(a->incarnation, b->incarnation, sizeof(zero)) == 0;
}

static int stamp_read(struct stamp *s)
{
	char path[128], inc[33] = "";
	FILE *f;
	int n;

	if (stamp_path(path, sizeof(path)) < 0 || !(f = fopen(path, "re")))
		return -ENOENT;
	*s = (struct stamp){ 0 };
	n = fscanf(f, "%" SCNx64 " %" SCNx64 " %63s %" SCNu32 " %" SCNu64 " %32s", &s->d.a, &s->d.b,
		   s->table, &s->id.genid, &s->id.handle, inc);
	fclose(f);
	if (n != 6 || strlen(inc) != 32)
		return -EINVAL;
	for (int i = 0; i < 16; i++)
		if (sscanf(inc + 2 * i, "%2hhx", &s->id.incarnation[i]) != 1)
			return -EINVAL;
	s->id.exists = true;
	return 0;
}

bool sync_stamp_fresh(const struct sync_digest *d, char *table, size_t len)
{
	struct stamp s;
	struct nl_table_id now;

	if (stamp_read(&s) < 0 || d->a != s.d.a || d->b != s.d.b ||
	    nl_table_identity(s.table, &now) < 0 || !same_id(&s.id, &now))
		return false;
	snprintf(table, len, "%s", s.table);
	return true;
}

void sync_stamp_write(const struct sync_digest *d, const char *table, uint32_t genid)
{
	char path[128], tmp[160];
	struct nl_table_id id;
	FILE *f;
	int fd;

	if (stamp_path(path, sizeof(path)) < 0 || nl_table_identity(table, &id) < 0 || !id.exists ||
	    strlen(table) >= 64)
		return;
	/* the generation our commit left, not one after someone else's */
	id.genid = genid;
	(void)mkdir(STAMP_DIR, 0700);
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	fprintf(f, "%016" PRIx64 " %016" PRIx64 " %s %" PRIu32 " %" PRIu64 " ", d->a, d->b, table,
		id.genid, id.handle);
	for (int i = 0; i < 16; i++)
		fprintf(f, "%02x", id.incarnation[i]);
	fputc('\n', f);
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		unlink(tmp);
}
