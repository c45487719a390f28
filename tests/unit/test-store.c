/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The file datastore: Calico's key layout, atomic writes, safe names. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "store.h"

static const char sample[] =
	"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: allow-icmp}\n"
	"spec: {order: 1700, ingress: [{action: Allow, protocol: ICMP}]}\n---\n"
	"apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: np1, namespace: ns1}\n"
	"spec: {selector: a == 'b'}\n---\n"
	"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: ns2}\n"
	"spec: {podSelector: {}}\n---\n"
	"apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h1}\n"
	"spec: {node: n1, interfaceName: eth1}\n";

struct fixture {
	char dir[64];
	struct store *s;
	struct resource_list l;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct diags d = { 0 };

	strcpy(f->dir, "/tmp/nftmgr-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	if (store_open(f->dir, &f->s) < 0)
		return -1;
	if (ruleset_load_buffer("s.yaml", sample, strlen(sample), &f->l, &d) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store_free(f->s);
	resource_list_clear(&f->l);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static bool file_exists(const char *dir, const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void test_layout(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < f->l.n; i++)
		assert_int_equal(store_put(f->s, f->l.v[i]), 0);
	assert_true(file_exists(
		f->dir,
		"calico/resources/v3/projectcalico.org/globalnetworkpolicies/default.allow-icmp"));
	assert_true(file_exists(
		f->dir, "calico/resources/v3/projectcalico.org/networkpolicies/ns1/default.np1"));
	assert_true(file_exists(
		f->dir,
		"calico/resources/v3/projectcalico.org/networkpolicies/ns2/knp.default.deny"));
	assert_true(file_exists(f->dir, "calico/resources/v3/projectcalico.org/hostendpoints/h1"));
	assert_int_equal(store_exists(f->s, RES_GLOBAL_NETWORK_POLICY, NULL, "allow-icmp"), 1);
	assert_int_equal(store_exists(f->s, RES_GLOBAL_NETWORK_POLICY, NULL, "nope"), 0);
	assert_int_equal(store_exists(f->s, RES_NETWORK_POLICY, "ns1", "np1"), 1);
	assert_int_equal(store_exists(f->s, RES_NETWORK_POLICY, "ns2", "np1"), 0);
}

static void test_key(void **state)
{
	char *k = resource_key(RES_GLOBAL_NETWORK_POLICY, NULL, "x");

	assert_string_equal(
		k, "/calico/resources/v3/projectcalico.org/globalnetworkpolicies/default.x");
	free(k);
	k = resource_key(RES_NETWORK_POLICY, "ns", "knp.default.y");
	assert_string_equal(
		k, "/calico/resources/v3/projectcalico.org/networkpolicies/ns/knp.default.y");
	free(k);
	k = resource_key(RES_HOST_ENDPOINT, NULL, "h");
	assert_string_equal(k, "/calico/resources/v3/projectcalico.org/hostendpoints/h");
	free(k);
	k = policy_name_from_storage("default.abc");
	assert_string_equal(k, "abc");
	free(k);
}

/* What is stored reads back identically, names without the tier prefix. */
static void test_list_round_trip(void **state)
{
	struct fixture *f = *state;
	struct resource_list got = { 0 };
	struct diags d = { 0 };

	for (size_t i = 0; i < f->l.n; i++)
		assert_int_equal(store_put(f->s, f->l.v[i]), 0);
	assert_int_equal(store_list_all(f->s, &got, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(got.n, f->l.n);
	resource_list_sort(&got);
	resource_list_sort(&f->l);
	for (size_t i = 0; i < got.n; i++) {
		char *a = resource_to_storage_json(got.v[i]);
		char *b = resource_to_storage_json(f->l.v[i]);

		assert_string_equal(a, b);
		free(a);
		free(b);
	}
	assert_string_equal(got.v[0]->name, "allow-icmp");
	resource_list_clear(&got);
	/* One namespace only. */
	assert_int_equal(store_list(f->s, RES_NETWORK_POLICY, "ns1", &got, &d), 0);
	assert_int_equal(got.n, 1);
	resource_list_clear(&got);
}

static void test_delete(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(store_put(f->s, f->l.v[0]), 0);
	assert_int_equal(store_delete(f->s, RES_GLOBAL_NETWORK_POLICY, NULL, "allow-icmp"), 0);
	assert_int_equal(store_exists(f->s, RES_GLOBAL_NETWORK_POLICY, NULL, "allow-icmp"), 0);
	assert_int_equal(store_delete(f->s, RES_GLOBAL_NETWORK_POLICY, NULL, "allow-icmp"),
			 -ENOENT);
}

static void test_unsafe_names(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(store_delete(f->s, RES_HOST_ENDPOINT, NULL, "../../x"), -EINVAL);
	assert_int_equal(store_exists(f->s, RES_HOST_ENDPOINT, NULL, ".lock"), -EINVAL);
	assert_int_equal(store_exists(f->s, RES_NETWORK_POLICY, "..", "x"), -EINVAL);
	assert_int_equal(store_exists(f->s, RES_HOST_ENDPOINT, NULL, ""), -EINVAL);
}

/* No temporary file is left behind, and a corrupt file is reported with
 * its path and skipped rather than failing the whole listing. */
static void test_no_leftovers_and_corrupt(void **state)
{
	struct fixture *f = *state;
	const char *rel = "calico/resources/v3/projectcalico.org/hostendpoints";
	struct resource_list got = { 0 };
	struct diags d = { 0 };
	struct dirent *e;
	char p[512];
	DIR *dir;
	FILE *fp;
	int n = 0;

	assert_int_equal(store_put(f->s, f->l.v[3]), 0);
	assert_int_equal(store_put(f->s, f->l.v[3]), 0);
	snprintf(p, sizeof(p), "%s/%s", f->dir, rel);
	dir = opendir(p);
	while ((e = readdir(dir)))
		n += e->d_name[0] != '.' || strncmp(e->d_name, ".h1", 3) == 0;
	closedir(dir);
	assert_int_equal(n, 1);
	snprintf(p, sizeof(p), "%s/%s/broken", f->dir, rel);
	fp = fopen(p, "w");
	fputs("{\"kind\": \"HostEndpoint\", ", fp);
	fclose(fp);
	assert_int_equal(store_list(f->s, RES_HOST_ENDPOINT, NULL, &got, &d), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].file, "broken"));
	resource_list_clear(&got);
	diags_clear(&d);
}

/* The lock excludes a second writer until the first lets go. */
static void test_lock(void **state)
{
	struct fixture *f = *state;
	int pipefd[2], status;
	pid_t pid;
	char c;

	assert_int_equal(store_lock(f->s), 0);
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	if (pid == 0) {
		struct store *s2;

		close(pipefd[0]);
		if (store_open(f->dir, &s2) < 0 || store_lock(s2) < 0)
			_exit(1);
		(void)!write(pipefd[1], "L", 1);
		_exit(0);
	}
	close(pipefd[1]);
	/* The child must block: nothing arrives while we hold the lock. */
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	usleep(200000);
	assert_int_equal(read(pipefd[0], &c, 1), -1);
	store_unlock(f->s);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fcntl(pipefd[0], F_SETFL, 0);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test(test_key),
		cmocka_unit_test_setup_teardown(test_list_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_leftovers_and_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
