/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading resource files, directories and standard input. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resource-internal.h"

struct load_job {
	struct dctx c;
	struct resource_list *out;
};

static int on_document(void *userdata, const struct value *root)
{
	struct load_job *j = userdata;

	j->c.plen = 0;
	j->c.path[0] = '\0';
	decode_document(&j->c, root, j->out);
	return 0;
}

static bool looks_like_json(const char *file, const char *buf, size_t len)
{
	size_t n = file ? strlen(file) : 0;

	if (n > 5 && strcmp(file + n - 5, ".json") == 0)
		return true;
	if (n > 5 && (strcmp(file + n - 5, ".yaml") == 0 || strcmp(file + n - 4, ".yml") == 0))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n')
			continue;
		return buf[i] == '{';
	}
	return false;
}

size_t ruleset_max_input(void)
{
	const char *v = getenv("NFTMGR_MAX_INPUT");
	unsigned long long n;
	char *end;

	if (!v || !*v)
		return RULESET_MAX_INPUT_DEFAULT;
	n = strtoull(v, &end, 10);
	if (*end == 'K' || *end == 'k')
		n <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		n <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		n <<= 30, end++;
	/* nonsense: the default; the limit is never unbounded */
	if (*end || n < 1024 || n > (4ull << 30))
		return RULESET_MAX_INPUT_DEFAULT;
	return (size_t)n;
}

size_t ruleset_max_values(void)
{
	return ruleset_max_input() / 16;
}

static int load_buffer(const char *file, const char *buf, size_t len, struct resource_list *out,
		       struct diags *d, bool partial)
{
	struct resource_list tmp = { 0 };
	struct load_job j = { .c = { .d = d, .file = file }, .out = &tmp };
	size_t before = d->n + d->dropped;
	int r;

	if (len > ruleset_max_input()) {
		diags_add(d, file, (struct pos){ 0, 0 }, NULL, NULL,
			  "input larger than %zu bytes (NFTMGR_MAX_INPUT raises the limit)",
			  ruleset_max_input());
		return -E2BIG;
	}
	if (looks_like_json(file, buf, len))
		r = value_parse_json(file, buf, len, on_document, &j, d);
	else
		r = value_parse_yaml(file, buf, len, on_document, &j, d);
	if (r == 0 && (j.c.errors || d->n + d->dropped != before))
		r = -EINVAL;
	for (size_t i = 0; (r == 0 || (partial && r == -EINVAL)) && i < tmp.n; i++) {
		int e = resource_list_add(out, tmp.v[i]);

		tmp.v[i] = NULL;
		if (e < 0)
			r = e;
	}
	resource_list_clear(&tmp);
	return r;
}

int ruleset_load_buffer(const char *file, const char *buf, size_t len, struct resource_list *out,
			struct diags *d)
{
	return load_buffer(file, buf, len, out, d, false);
}

int ruleset_load_buffer_partial(const char *file, const char *buf, size_t len,
				struct resource_list *out, struct diags *d)
{
	return load_buffer(file, buf, len, out, d, true);
}

static int read_fd(int fd, char **ret, size_t *ret_len)
{
	size_t cap = 64 << 10, len = 0;
	char *buf = malloc(cap + 1);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			if (cap > ruleset_max_input()) {
				free(buf);
				return -E2BIG;
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;

			free(buf);
			return e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

int ruleset_read_file(const char *path, char **ret, size_t *ret_len)
{
	int fd, r;

	if (strcmp(path, "-") == 0)
		return read_fd(STDIN_FILENO, ret, ret_len);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = read_fd(fd, ret, ret_len);
	close(fd);
	return r;
}

static int load_file(const char *path, struct resource_list *out, struct diags *d)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = ruleset_read_file(path, &buf, &len);

	if (r < 0) {
		diags_add(d, strcmp(path, "-") ? path : "<stdin>", (struct pos){ 0, 0 }, NULL, NULL,
			  "%s",
			  r == -E2BIG ? "input larger than the limit (NFTMGR_MAX_INPUT)"
				      : strerror(-r));
		return r;
	}
	return ruleset_load_buffer(strcmp(path, "-") ? path : "<stdin>", buf, len, out, d);
}

static int wanted(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	if (e->d_name[0] == '.')
		return 0;
	return (n > 5 && strcmp(e->d_name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(e->d_name + n - 4, ".yml") == 0) ||
	       (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0);
}

static int load_dir(const char *path, struct resource_list *out, struct diags *d)
{
	struct dirent **names = NULL;
	int n = scandir(path, &names, wanted, alphasort), r = 0;

	if (n < 0) {
		diags_add(d, path, (struct pos){ 0, 0 }, NULL, NULL, "%s", strerror(errno));
		return -errno;
	}
	if (n > (int)RULESET_MAX_FILES) {
		diags_add(d, path, (struct pos){ 0, 0 }, NULL, NULL, "more than %u files",
			  RULESET_MAX_FILES);
		r = -E2BIG;
	}
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *p = NULL;

		size_t plen = strlen(path);

		while (plen > 1 && path[plen - 1] == '/')
			plen--;
		if (r != -E2BIG &&
		    asprintf(&p, "%.*s/%s", (int)plen, path, names[i]->d_name) >= 0) {
			int x = load_file(p, out, d);

			if (x < 0 && r == 0)
				r = x;
		}
		free(names[i]);
	}
	free(names);
	return r;
}

/* The same resource twice in one input is an error unless both say the
 * same (the seed's policy in v1 and in v3 form, say): then one is kept. */
static bool same_resource(const struct resource *a, const struct resource *b)
{
	_cleanup_free_ char *ja = resource_to_storage_json(a);
	_cleanup_free_ char *jb = resource_to_storage_json(b);

	return ja && jb && strcmp(ja, jb) == 0;
}

static bool cmp_key_same(const struct resource *a, const struct resource *b)
{
	return a->kind == b->kind && strcmp(a->name, b->name) == 0 &&
	       strcmp(a->namespace ? a->namespace : "", b->namespace ? b->namespace : "") == 0;
}

static int cmp_key(const void *pa, const void *pb)
{
	const struct resource *a = **(struct resource *const *const *)pa;
	const struct resource *b = **(struct resource *const *const *)pb;
	int c = (a->kind > b->kind) - (a->kind < b->kind);

	if (!c)
		c = strcmp(a->name, b->name);
	if (!c)
		c = strcmp(a->namespace ? a->namespace : "", b->namespace ? b->namespace : "");
	/* then by position in the list: the pointers into it */
	if (!c)
		c = (*(struct resource *const *const *)pa > *(struct resource *const *const *)pb) -
		    (*(struct resource *const *const *)pa < *(struct resource *const *const *)pb);
	return c;
}

/* A resource defined twice: the same twice is once, differently an
 * error at the later one. Sorted by kind, name and namespace (10,000
 * policies: 50,000,000 compares one by one). */
static int check_duplicates(struct resource_list *l, struct diags *d)
{
	struct resource **v = l->v, ***idx = malloc((l->n ? l->n : 1) * sizeof(*idx));
	size_t *first = malloc((l->n ? l->n : 1) * sizeof(*first));
	int r = 0;

	if (!idx || !first) {
		free(idx);
		free(first);
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->n; i++)
		idx[i] = &v[i];
	qsort(idx, l->n, sizeof(*idx), cmp_key);
	for (size_t g = 0; g < l->n; g++)
		first[idx[g] - v] = g && cmp_key_same(*idx[g], *idx[g - 1]) ? first[idx[g - 1] - v]
									    : (size_t)(idx[g] - v);
	for (size_t i = 0; i < l->n; i++) {
		struct resource *a = v[i], *b = v[first[i]];

		if (first[i] == i)
			continue;
		if (same_resource(a, b)) {
			v[i] = resource_free(a);
			continue;
		}
		diags_add(d, a->file, a->pos, NULL, NULL,
			  "%s/%s is also defined, differently, at %s:%u:%u",
			  kind_info(a->kind)->kind, a->name, b->file ? b->file : "-", b->pos.line,
			  b->pos.col);
		r = -EINVAL;
	}
	free(idx);
	free(first);
	return r;
}

int ruleset_load_path(const char *path, struct resource_list *out, struct diags *d)
{
	struct resource_list tmp = { 0 };
	struct stat st;
	int r;

	if (strcmp(path, "-") == 0)
		r = load_file(path, &tmp, d);
	else if (stat(path, &st) < 0)
		r = -errno,
		diags_add(d, path, (struct pos){ 0, 0 }, NULL, NULL, "%s", strerror(errno));
	else if (S_ISDIR(st.st_mode))
		r = load_dir(path, &tmp, d);
	else
		r = load_file(path, &tmp, d);
	if (r == 0 && tmp.n > 1)
		r = check_duplicates(&tmp, d);
	for (size_t i = 0; r == 0 && i < tmp.n; i++) {
		if (tmp.v[i])
			r = resource_list_add(out, tmp.v[i]);
		tmp.v[i] = NULL;
	}
	resource_list_clear(&tmp);
	return r;
}

int resource_from_storage(const char *file, const char *buf, size_t len, struct resource **ret,
			  struct diags *d)
{
	struct dctx c = { .d = d, .file = file };
	struct value_budget b = { 0 };
	json_error_t err;
	json_t *j, *name;
	struct value *tree;
	struct resource *r;
	const char *kind;
	int k;

	if (len > ruleset_max_input())
		return -E2BIG;
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (!j) {
		diags_add(d, file, (struct pos){ (uint32_t)err.line, (uint32_t)err.column }, NULL,
			  NULL, "JSON syntax: %s", err.text);
		return -EINVAL;
	}
	/* Stored policy names carry the tier: default.<name>. */
	kind = json_string_value(json_object_get(j, "kind"));
	name = json_object_get(json_object_get(j, "metadata"), "name");
	for (k = 0; kind && k < RES_KIND_MAX; k++)
		if (kind_info(k)->policy && strcmp(kind, kind_info(k)->kind) == 0 &&
		    json_is_string(name)) {
			_cleanup_free_ char *plain = policy_name_from_storage(
				json_string_value(name));

			if (!plain || json_string_set(name, plain) < 0) {
				json_decref(j);
				return -ENOMEM;
			}
		}
	tree = value_from_json(j, 0, &b);
	json_decref(j);
	if (!tree)
		return -ENOMEM;
	r = decode_one(&c, tree);
	value_free(tree);
	if (!r)
		return c.errors ? -EINVAL : -ENOMEM;
	*ret = r;
	return 0;
}
