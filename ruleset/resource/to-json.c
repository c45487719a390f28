/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Resources as Calico v3 JSON (storage, -o json) and YAML (-o yaml): the
 * stored text is written directly (json-write.c); output parses it back
 * into a tree to print it indented or as YAML. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "resource-internal.h"

static void w_labels(struct jw *w, const char *key, const struct labels *l)
{
	jw_key(w, key);
	jw_open(w, '{');
	for (size_t i = 0; i < l->n; i++)
		jw_kstr(w, l->v[i].key, l->v[i].value);
	jw_close(w, '}');
}

static void w_cidrs(struct jw *w, const char *key, const struct cidr *v, size_t n, bool with_len)
{
	char buf[64];

	jw_key(w, key);
	jw_open(w, '[');
	for (size_t i = 0; i < n; i++) {
		cidr_format(&v[i], with_len, buf, sizeof(buf));
		jw_str(w, buf);
	}
	jw_close(w, ']');
}

static void w_strv(struct jw *w, const char *key, char *const *v, size_t n)
{
	jw_key(w, key);
	jw_open(w, '[');
	for (size_t i = 0; i < n; i++)
		jw_str(w, v[i]);
	jw_close(w, ']');
}

static void w_protocol(struct jw *w, const char *key, const struct protocol *p)
{
	const char *name = p->named ? protocol_name(p->num, API_V3) : NULL;

	jw_key(w, key);
	if (name)
		jw_str(w, name);
	else
		jw_int(w, p->num);
}

static void w_ports(struct jw *w, const char *key, const struct port *v, size_t n)
{
	char buf[32];

	jw_key(w, key);
	jw_open(w, '[');
	for (size_t i = 0; i < n; i++) {
		if (v[i].name) {
			jw_str(w, v[i].name);
		} else if (v[i].min == v[i].max) {
			jw_int(w, v[i].min);
		} else {
			size_t k = put_uint(buf, v[i].min);

			buf[k++] = ':';
			buf[k + put_uint(buf + k, v[i].max)] = '\0';
			jw_str(w, buf);
		}
	}
	jw_close(w, ']');
}

static void w_entity(struct jw *w, const char *key, const struct entity *e)
{
	jw_key(w, key);
	jw_open(w, '{');
	if (e->n_nets)
		w_cidrs(w, "nets", e->nets, e->n_nets, true);
	if (e->n_not_nets)
		w_cidrs(w, "notNets", e->not_nets, e->n_not_nets, true);
	jw_kstr(w, "selector", e->selector);
	jw_kstr(w, "notSelector", e->not_selector);
	jw_kstr(w, "namespaceSelector", e->ns_selector);
	if (e->n_ports)
		w_ports(w, "ports", e->ports, e->n_ports);
	if (e->n_not_ports)
		w_ports(w, "notPorts", e->not_ports, e->n_not_ports);
	if (e->n_sa_names || e->sa_selector) {
		jw_key(w, "serviceAccounts");
		jw_open(w, '{');
		if (e->n_sa_names)
			w_strv(w, "names", e->sa_names, e->n_sa_names);
		jw_kstr(w, "selector", e->sa_selector);
		jw_close(w, '}');
	}
	if (e->svc_name) {
		jw_key(w, "services");
		jw_open(w, '{');
		jw_kstr(w, "name", e->svc_name);
		jw_kstr(w, "namespace", e->svc_ns);
		jw_close(w, '}');
	}
	jw_close(w, '}');
}

static void w_icmp(struct jw *w, const char *key, const struct icmp *i)
{
	jw_key(w, key);
	jw_open(w, '{');
	if (i->has_type) {
		jw_key(w, "type");
		jw_int(w, i->type);
	}
	if (i->has_code) {
		jw_key(w, "code");
		jw_int(w, i->code);
	}
	jw_close(w, '}');
}

/* JSON kept as text (a rule's http, a staged Kubernetes spec), as
 * compact as the rest. */
static void w_text(struct jw *w, const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	jw_json(w, j);
	json_decref(j);
}

static void w_rules(struct jw *w, const char *key, const struct rule *v, size_t n)
{
	static const char *const actions[] = { "Allow", "Deny", "Log", "Pass" };

	jw_key(w, key);
	jw_open(w, '[');
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = &v[i];

		jw_open(w, '{');
		jw_kstr(w, "action", actions[r->action]);
		if (r->ip_version) {
			jw_key(w, "ipVersion");
			jw_int(w, r->ip_version);
		}
		if (r->protocol.set)
			w_protocol(w, "protocol", &r->protocol);
		if (r->not_protocol.set)
			w_protocol(w, "notProtocol", &r->not_protocol);
		if (r->icmp.set)
			w_icmp(w, "icmp", &r->icmp);
		if (r->not_icmp.set)
			w_icmp(w, "notICMP", &r->not_icmp);
		/* Calico's Go structs always serialise both entity rules. */
		w_entity(w, "source", &r->src);
		w_entity(w, "destination", &r->dst);
		if (r->http) {
			jw_key(w, "http");
			w_text(w, r->http);
		}
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

/* An integral order as an integer, else as jansson writes a real. */
static void w_number(struct jw *w, const char *key, double v)
{
	jw_key(w, key);
	if (v == floor(v) && fabs(v) < 9e15) {
		jw_int(w, (long long)v);
	} else {
		json_t *j = json_real(v);

		jw_json(w, j);
		json_decref(j);
	}
}

static void w_true(struct jw *w, const char *key)
{
	jw_key(w, key);
	jw_raw(w, "true");
}

static void policy_spec(struct jw *w, const struct resource *r)
{
	const struct policy_spec *p = &r->u.policy;

	jw_kstr(w, "tier", p->tier);
	if (kind_is_staged(r->kind))
		jw_kstr(w, "stagedAction", staged_action_name(p->staged_action));
	if (kind_is_staged(r->kind) && p->staged_action == STAGED_DELETE)
		return; /* a Delete names a policy: nothing else */
	if (p->has_order)
		w_number(w, "order", p->order);
	jw_kstr(w, "selector", p->selector);
	jw_kstr(w, "namespaceSelector", p->ns_selector);
	jw_kstr(w, "serviceAccountSelector", p->sa_selector);
	if (p->n_ingress)
		w_rules(w, "ingress", p->ingress, p->n_ingress);
	if (p->n_egress)
		w_rules(w, "egress", p->egress, p->n_egress);
	jw_key(w, "types");
	jw_open(w, '[');
	if (p->types & POLICY_TYPE_INGRESS)
		jw_str(w, "Ingress");
	if (p->types & POLICY_TYPE_EGRESS)
		jw_str(w, "Egress");
	jw_close(w, ']');
	if (p->do_not_track)
		w_true(w, "doNotTrack");
	if (p->pre_dnat)
		w_true(w, "preDNAT");
	if (p->apply_on_forward && kind_enforced(r->kind) == RES_GLOBAL_NETWORK_POLICY)
		w_true(w, "applyOnForward");
}

static void w_named_ports(struct jw *w, const struct named_port *v, size_t n)
{
	jw_key(w, "ports");
	jw_open(w, '[');
	for (size_t i = 0; i < n; i++) {
		jw_open(w, '{');
		jw_kstr(w, "name", v[i].name);
		w_protocol(w, "protocol", &v[i].protocol);
		jw_key(w, "port");
		jw_int(w, v[i].port);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void endpoint_spec(struct jw *w, const struct resource *r)
{
	const struct endpoint_spec *e = &r->u.ep;
	bool hep = r->kind == RES_HOST_ENDPOINT;

	jw_kstr(w, "orchestrator", e->orchestrator);
	jw_kstr(w, "workload", e->workload);
	jw_kstr(w, "node", e->node);
	jw_kstr(w, "containerID", e->container_id);
	jw_kstr(w, "pod", e->pod);
	jw_kstr(w, "endpoint", e->endpoint);
	jw_kstr(w, "serviceAccountName", e->service_account);
	jw_kstr(w, "interfaceName", e->iface);
	if (e->n_ips)
		w_cidrs(w, hep ? "expectedIPs" : "ipNetworks", e->ips, e->n_ips, !hep);
	if (e->n_profiles)
		w_strv(w, "profiles", e->profiles, e->n_profiles);
	jw_kstr(w, "mac", e->mac);
	if (e->n_ports)
		w_named_ports(w, e->ports, e->n_ports);
	if (e->n_spoof)
		w_cidrs(w, "allowSpoofedSourcePrefixes", e->spoof, e->n_spoof, true);
}

static void w_failsafe(struct jw *w, const char *key, const struct failsafe *v, size_t n)
{
	char buf[64];

	jw_key(w, key);
	jw_open(w, '[');
	for (size_t i = 0; i < n; i++) {
		jw_open(w, '{');
		jw_kstr(w, "protocol", protocol_name(v[i].protocol.num, API_V1));
		jw_key(w, "port");
		jw_int(w, v[i].port);
		if (v[i].has_net) {
			cidr_format(&v[i].net, true, buf, sizeof(buf));
			jw_kstr(w, "net", buf);
		}
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void felix_spec(struct jw *w, const struct felix_spec *f)
{
	char buf[16];

	if (f->has_failsafe_in)
		w_failsafe(w, "failsafeInboundHostPorts", f->failsafe_in, f->n_failsafe_in);
	if (f->has_failsafe_out)
		w_failsafe(w, "failsafeOutboundHostPorts", f->failsafe_out, f->n_failsafe_out);
	jw_kstr(w, "interfacePrefix", f->interface_prefix);
	jw_kstr(w, "logPrefix", f->log_prefix);
	jw_kstr(w, "defaultEndpointToHostAction", f->ep_to_host);
	jw_kstr(w, "nftablesTableName", f->table_name);
	if (f->has_mark_mask) {
		snprintf(buf, sizeof(buf), "%#010x", f->mark_mask);
		jw_kstr(w, "nftablesMarkMask", buf);
	}
	if (f->has_merge_allow) {
		jw_key(w, "nftablesMergeAllowPolicies");
		jw_raw(w, f->merge_allow ? "true" : "false");
	}
	if (f->has_spoof_any)
		jw_kstr(w, "workloadSourceSpoofing", f->spoof_any ? "Any" : "Disabled");
}

static void w_spec(struct jw *w, const struct resource *r)
{
	jw_key(w, "spec");
	if (r->kind == RES_STAGED_K8S_NETWORK_POLICY) {
		/* the Kubernetes spec, as written */
		w_text(w, r->u.policy.k8s_spec ? r->u.policy.k8s_spec : "{}");
		return;
	}
	jw_open(w, '{');
	switch (r->kind) {
	case RES_GLOBAL_NETWORK_POLICY:
	case RES_NETWORK_POLICY:
	case RES_STAGED_GLOBAL_NETWORK_POLICY:
	case RES_STAGED_NETWORK_POLICY: policy_spec(w, r); break;
	case RES_TIER:
		w_number(w, "order", r->u.tier.order);
		jw_kstr(w, "defaultAction",
			r->u.tier.default_action == ACTION_PASS ? "Pass" : "Deny");
		break;
	case RES_HOST_ENDPOINT:
	case RES_WORKLOAD_ENDPOINT: endpoint_spec(w, r); break;
	case RES_GLOBAL_NETWORK_SET:
	case RES_NETWORK_SET:
		if (r->u.netset.n_nets)
			w_cidrs(w, "nets", r->u.netset.nets, r->u.netset.n_nets, true);
		break;
	case RES_PROFILE:
		if (r->u.profile.n_ingress)
			w_rules(w, "ingress", r->u.profile.ingress, r->u.profile.n_ingress);
		if (r->u.profile.n_egress)
			w_rules(w, "egress", r->u.profile.egress, r->u.profile.n_egress);
		if (r->u.profile.labels_to_apply.n)
			w_labels(w, "labelsToApply", &r->u.profile.labels_to_apply);
		break;
	case RES_FELIX_CONFIGURATION: felix_spec(w, &r->u.felix); break;
	case RES_STAGED_K8S_NETWORK_POLICY:
	case RES_KIND_MAX: break;
	}
	jw_close(w, '}');
}

static char *resource_text(const struct resource *r, bool storage)
{
	const struct kind_info *k = kind_info(r->kind);
	char *name = storage && k->policy ? policy_name_to_storage(r->name) : NULL;
	struct jw w = { 0 };

	if (storage && k->policy && !name)
		return NULL;
	jw_open(&w, '{');
	jw_kstr(&w, "apiVersion", "projectcalico.org/v3");
	jw_kstr(&w, "kind", k->kind);
	jw_key(&w, "metadata");
	jw_open(&w, '{');
	jw_kstr(&w, "name", name ? name : r->name);
	free(name);
	jw_kstr(&w, "namespace", r->namespace);
	jw_kstr(&w, "uid", r->uid);
	jw_kstr(&w, "creationTimestamp", r->created);
	if (r->labels.n)
		w_labels(&w, "labels", &r->labels);
	if (r->annotations.n)
		w_labels(&w, "annotations", &r->annotations);
	jw_close(&w, '}');
	w_spec(&w, r);
	jw_close(&w, '}');
	return jw_done(&w);
}

json_t *resource_to_json(const struct resource *r, bool storage)
{
	char *s = resource_text(r, storage);
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;

	free(s);
	return j;
}

char *resource_to_storage_json(const struct resource *r)
{
	return resource_text(r, true);
}

/* Several resources as calicoctl prints them: one alone, else a List. */
static json_t *j_output(struct resource *const *v, size_t n)
{
	json_t *items, *list;
	bool same = true;
	char kind[64];

	if (n == 1)
		return resource_to_json(v[0], false);
	items = json_array();
	if (!items)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *j = resource_to_json(v[i], false);

		if (!j || json_array_append_new(items, j) < 0)
			return json_decref(items), NULL;
		same &= v[i]->kind == v[0]->kind;
	}
	if (!same)
		return items;
	snprintf(kind, sizeof(kind), "%sList",
		 n ? kind_info(v[0]->kind)->kind : "GlobalNetworkPolicy");
	list = json_pack("{s:s, s:s, s:{}, s:o}", "apiVersion", "projectcalico.org/v3", "kind",
			 kind, "metadata", "items", items);
	return list;
}

int resources_write_json(struct resource *const *v, size_t n, FILE *f)
{
	json_t *j = j_output(v, n);
	int r;

	if (!j)
		return -ENOMEM;
	r = json_dumpf(j, f, JSON_INDENT(2));
	json_decref(j);
	if (r < 0 || fputc('\n', f) == EOF)
		return -EIO;
	return 0;
}

/* ---- YAML ------------------------------------------------------------------ */

static int emit(yaml_emitter_t *e, yaml_event_t *ev)
{
	return yaml_emitter_emit(e, ev) ? 0 : -EIO;
}

/* A string that would read back as a number, boolean or null is quoted. */
static bool needs_quotes(const char *s)
{
	struct value n = { .type = VALUE_SCALAR, .str = (char *)s };

	return value_scalar_type(&n) != SCALAR_STR;
}

static int emit_scalar(yaml_emitter_t *e, const char *s, bool is_string)
{
	yaml_event_t ev;
	bool quote = is_string && needs_quotes(s);

	if (!yaml_scalar_event_initialize(
		    &ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), !quote, true,
		    quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE))
		return -ENOMEM;
	return emit(e, &ev);
}

static int emit_json(yaml_emitter_t *e, const json_t *j)
{
	yaml_event_t ev;
	char buf[64];
	int r = 0;

	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *v;

		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		if (emit(e, &ev) < 0)
			return -EIO;
		json_object_foreach((json_t *)j, k, v)
		{
			if ((r = emit_scalar(e, k, true)) < 0 || (r = emit_json(e, v)) < 0)
				return r;
		}
		yaml_mapping_end_event_initialize(&ev);
		return emit(e, &ev);
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *v;

		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		if (emit(e, &ev) < 0)
			return -EIO;
		json_array_foreach(j, i, v) if ((r = emit_json(e, v)) < 0) return r;
		yaml_sequence_end_event_initialize(&ev);
		return emit(e, &ev);
	}
	case JSON_STRING: return emit_scalar(e, json_string_value(j), true);
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		return emit_scalar(e, buf, false);
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(j));
		return emit_scalar(e, buf, false);
	case JSON_TRUE: return emit_scalar(e, "true", false);
	case JSON_FALSE: return emit_scalar(e, "false", false);
	case JSON_NULL: return emit_scalar(e, "null", false);
	}
	return -EINVAL;
}

static int yaml_file_write(void *data, unsigned char *buf, size_t size)
{
	return fwrite(buf, 1, size, data) == size;
}

int resources_write_yaml(struct resource *const *v, size_t n, FILE *f)
{
	json_t *j = j_output(v, n);
	yaml_emitter_t e;
	yaml_event_t ev;
	int r = -EIO;

	if (!j)
		return -ENOMEM;
	if (!yaml_emitter_initialize(&e)) {
		json_decref(j);
		return -ENOMEM;
	}
	yaml_emitter_set_output(&e, yaml_file_write, f);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if (emit(&e, &ev) < 0)
		goto out;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	if (emit(&e, &ev) < 0 || emit_json(&e, j) < 0)
		goto out;
	yaml_document_end_event_initialize(&ev, 1);
	if (emit(&e, &ev) < 0)
		goto out;
	yaml_stream_end_event_initialize(&ev);
	r = emit(&e, &ev);
out:
	yaml_emitter_delete(&e);
	json_decref(j);
	return r;
}
