/* SPDX-License-Identifier: GPL-2.0-or-later */
/* calicoctl.cfg files, v1 and v3, and the environment. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "resource.h"

static char path[64];

static void write_cfg(const char *text)
{
	FILE *f;

	strcpy(path, "/tmp/nftmgr-cfg-XXXXXX");
	close(mkstemp(path));
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void clear_env(void)
{
	static const char *const v[] = {
		"DATASTORE_TYPE", "DATASTORE_DIR",     "ETCD_ENDPOINTS", "ETCD_KEY_FILE",
		"ETCD_CERT_FILE", "ETCD_CA_CERT_FILE", "ETCD_USERNAME",	 "ETCD_PASSWORD",
	};
	char name[64];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		unsetenv(v[i]);
		snprintf(name, sizeof(name), "CALICO_%s", v[i]);
		unsetenv(name);
	}
}

/* The seed's own calicoctl.cfg: v1, etcd endpoints and TLS, no type. */
static void test_v1_seed(void **state)
{
	struct config c;
	struct diags d = { 0 };

	clear_env();
	write_cfg("apiVersion: v1\nkind: calicoApiConfig\nmetadata:\nspec:\n"
		  "  etcdEndpoints: https://169.0.0.1:30001\n"
		  "  etcdKeyFile: /certs/admin-key.pem\n  etcdCertFile: /certs/admin.pem\n"
		  "  etcdCACertFile: /certs/ca.pem\n");
	assert_int_equal(config_load(path, true, &c, &d), 0);
	assert_int_equal(c.type, DATASTORE_ETCDV3);
	assert_string_equal(c.etcd_endpoints, "https://169.0.0.1:30001");
	assert_string_equal(c.etcd_key_file, "/certs/admin-key.pem");
	assert_string_equal(c.etcd_cert_file, "/certs/admin.pem");
	assert_string_equal(c.etcd_ca_cert_file, "/certs/ca.pem");
	config_clear(&c);
	unlink(path);
}

static void test_v3_file(void **state)
{
	struct config c;
	struct diags d = { 0 };

	clear_env();
	write_cfg("apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\n"
		  "spec:\n  datastoreType: file\n  datastoreDir: /srv/nftmgr\n");
	assert_int_equal(config_load(path, true, &c, &d), 0);
	assert_int_equal(c.type, DATASTORE_FILE);
	assert_string_equal(c.datastore_dir, "/srv/nftmgr");
	config_clear(&c);
	unlink(path);
}

/* calicoctl 1.x's etcdv2, from the file or DATASTORE_TYPE; the upgrade's
 * v1 side defaults to it and reads APIV1_* (CALICO_APIV1_* first). */
static void test_etcdv2(void **state)
{
	struct config c;
	struct diags d = { 0 };

	clear_env();
	write_cfg("apiVersion: v1\nkind: calicoApiConfig\nmetadata:\nspec:\n"
		  "  datastoreType: etcdv2\n  etcdEndpoints: http://127.0.0.1:2379\n");
	assert_int_equal(config_load(path, true, &c, &d), 0);
	assert_int_equal(c.type, DATASTORE_ETCDV2);
	config_clear(&c);
	write_cfg("apiVersion: v1\nkind: calicoApiConfig\nmetadata:\nspec:\n"
		  "  etcdEndpoints: http://127.0.0.1:2379\n");
	setenv("DATASTORE_TYPE", "etcdv2", 1);
	assert_int_equal(config_load(path, true, &c, &d), 0);
	assert_int_equal(c.type, DATASTORE_ETCDV2);
	config_clear(&c);
	unsetenv("DATASTORE_TYPE");
	assert_int_equal(config_load(path, true, &c, &d), 0);
	assert_int_equal(c.type, DATASTORE_ETCDV3);
	config_clear(&c);
	assert_int_equal(config_load_apiv1(path, true, &c, &d), 0);
	assert_int_equal(c.type, DATASTORE_ETCDV2);
	config_clear(&c);
	setenv("APIV1_ETCD_ENDPOINTS", "http://10.0.0.1:2379", 1);
	setenv("CALICO_APIV1_ETCD_USERNAME", "root", 1);
	setenv("ETCD_ENDPOINTS", "http://10.0.0.3:2379", 1); /* the v3 side's */
	assert_int_equal(config_load_apiv1("/nonexistent", false, &c, &d), 0);
	assert_int_equal(c.type, DATASTORE_ETCDV2);
	assert_string_equal(c.etcd_endpoints, "http://10.0.0.1:2379");
	assert_string_equal(c.etcd_username, "root");
	config_clear(&c);
	unsetenv("APIV1_ETCD_ENDPOINTS");
	unsetenv("CALICO_APIV1_ETCD_USERNAME");
	clear_env();
	assert_int_equal(d.n, 0);
	unlink(path);
}

static void test_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "apiVersion: v1\nkind: CalicoAPIConfig\nspec: {}\n",
		  "expected kind 'calicoApiConfig'" },
		{ "apiVersion: projectcalico.org/v3\nkind: calicoApiConfig\n",
		  "expected kind 'CalicoAPIConfig'" },
		{ "apiVersion: v2\nkind: calicoApiConfig\n", "unknown APIVersion 'v2'" },
		{ "apiVersion: v1\nkind: calicoApiConfig\nspec: {datastoreType: kubernetes}\n",
		  "unknown datastore type" },
		{ "apiVersion: v1\nkind: calicoApiConfig\nspec: {etcdEndpoint: x}\n",
		  "unknown field" },
	};

	clear_env();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config c;
		struct diags d = { 0 };

		write_cfg(bad[i].text);
		assert_int_equal(config_load(path, true, &c, &d), -EINVAL);
		assert_true(d.n >= 1);
		if (!strstr(d.v[0].msg, bad[i].msg))
			fail_msg("config %zu: got '%s', want '%s'", i, d.v[0].msg, bad[i].msg);
		diags_clear(&d);
		unlink(path);
	}
}

static void test_missing_and_env(void **state)
{
	struct config c;
	struct diags d = { 0 };

	clear_env();
	assert_int_equal(config_load("/nonexistent/nftmgr.cfg", false, &c, &d), 0);
	assert_int_equal(c.type, DATASTORE_FILE);
	assert_string_equal(c.datastore_dir, STORE_DEFAULT_DIR);
	config_clear(&c);
	assert_int_equal(config_load("/nonexistent/nftmgr.cfg", true, &c, &d), -ENOENT);
	diags_clear(&d);
	/* The environment wins over the file; CALICO_ wins over plain. */
	write_cfg("apiVersion: v1\nkind: calicoApiConfig\nspec: {etcdEndpoints: http://a:2379}\n");
	setenv("ETCD_ENDPOINTS", "http://b:2379", 1);
	setenv("CALICO_ETCD_ENDPOINTS", "http://c:2379,http://d:2379", 1);
	setenv("ETCD_USERNAME", "root", 1);
	assert_int_equal(config_load(path, true, &c, &d), 0);
	assert_string_equal(c.etcd_endpoints, "http://c:2379,http://d:2379");
	assert_string_equal(c.etcd_username, "root");
	config_clear(&c);
	setenv("DATASTORE_TYPE", "file", 1);
	assert_int_equal(config_load(path, true, &c, &d), 0);
	assert_int_equal(c.type, DATASTORE_FILE);
	config_clear(&c);
	clear_env();
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_seed),		cmocka_unit_test(test_v3_file),
		cmocka_unit_test(test_etcdv2),		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_and_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
