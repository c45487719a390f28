/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Resources as Calico v3 JSON (storage, -o json) and YAML (-o yaml). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <yaml.h>

#include "resource-internal.h"

/* jansson's setters steal the value; a NULL value makes them fail, which
 * we detect once at the end through the out-of-memory flag. */
struct jb {
	bool oom;
};

static void set(struct jb *b, json_t *o, const char *k, json_t *v)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		b->oom = true;
}

static void push(struct jb *b, json_t *a, json_t *v)
{
	if (!v || json_array_append_new(a, v) < 0)
		b->oom = true;
}

static void set_str(struct jb *b, json_t *o, const char *k, const char *v)
{
	if (v)
		set(b, o, k, json_string(v));
}

static json_t *j_labels(const struct labels *l)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < l->n; i++)
		if (json_object_set_new(o, l->v[i].key, json_string(l->v[i].value)) < 0)
			return json_decref(o), NULL;
	return o;
}

static json_t *j_cidrs(const struct cidr *v, size_t n, bool with_len)
{
	json_t *a = json_array();
	char buf[64];

	for (size_t i = 0; a && i < n; i++) {
		cidr_format(&v[i], with_len, buf, sizeof(buf));
		if (json_array_append_new(a, json_string(buf)) < 0)
			return json_decref(a), NULL;
	}
	return a;
}

static json_t *j_strv(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0)
			return json_decref(a), NULL;
	return a;
}

static json_t *j_protocol(const struct protocol *p)
{
	const char *name = p->named ? protocol_name(p->num, API_V3) : NULL;

	return name ? json_string(name) : json_integer(p->num);
}

static json_t *j_ports(struct jb *b, const struct port *v, size_t n)
{
	json_t *a = json_array();
	char buf[16];

	for (size_t i = 0; a && i < n; i++) {
		if (v[i].name) {
			push(b, a, json_string(v[i].name));
		} else if (v[i].min == v[i].max) {
			push(b, a, json_integer(v[i].min));
		} else {
			snprintf(buf, sizeof(buf), "%u:%u", v[i].min, v[i].max);
			push(b, a, json_string(buf));
		}
	}
	return a;
}

static json_t *j_entity(struct jb *b, const struct entity *e)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (e->n_nets)
		set(b, o, "nets", j_cidrs(e->nets, e->n_nets, true));
	if (e->n_not_nets)
		set(b, o, "notNets", j_cidrs(e->not_nets, e->n_not_nets, true));
	set_str(b, o, "selector", e->selector);
	set_str(b, o, "notSelector", e->not_selector);
	set_str(b, o, "namespaceSelector", e->ns_selector);
	if (e->n_ports)
		set(b, o, "ports", j_ports(b, e->ports, e->n_ports));
	if (e->n_not_ports)
		set(b, o, "notPorts", j_ports(b, e->not_ports, e->n_not_ports));
	if (e->n_sa_names || e->sa_selector) {
		json_t *sa = json_object();

		if (sa && e->n_sa_names)
			set(b, sa, "names", j_strv(e->sa_names, e->n_sa_names));
		if (sa)
			set_str(b, sa, "selector", e->sa_selector);
		set(b, o, "serviceAccounts", sa);
	}
	if (e->svc_name) {
		json_t *sv = json_object();

		if (sv) {
			set_str(b, sv, "name", e->svc_name);
			set_str(b, sv, "namespace", e->svc_ns);
		}
		set(b, o, "services", sv);
	}
	return o;
}

static json_t *j_icmp(struct jb *b, const struct icmp *i)
{
	json_t *o = json_object();

	if (o && i->has_type)
		set(b, o, "type", json_integer(i->type));
	if (o && i->has_code)
		set(b, o, "code", json_integer(i->code));
	return o;
}

static json_t *j_rules(struct jb *b, const struct rule *v, size_t n)
{
	static const char *const actions[] = { "Allow", "Deny", "Log", "Pass" };
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		const struct rule *r = &v[i];
		json_t *o = json_object();

		if (!o) {
			b->oom = true;
			break;
		}
		set_str(b, o, "action", actions[r->action]);
		if (r->ip_version)
			set(b, o, "ipVersion", json_integer(r->ip_version));
		if (r->protocol.set)
			set(b, o, "protocol", j_protocol(&r->protocol));
		if (r->not_protocol.set)
			set(b, o, "notProtocol", j_protocol(&r->not_protocol));
		if (r->icmp.set)
			set(b, o, "icmp", j_icmp(b, &r->icmp));
		if (r->not_icmp.set)
			set(b, o, "notICMP", j_icmp(b, &r->not_icmp));
		/* Calico's Go structs always serialise both entity rules. */
		set(b, o, "source", j_entity(b, &r->src));
		set(b, o, "destination", j_entity(b, &r->dst));
		if (r->http) {
			json_t *h = json_loads(r->http, 0, NULL);

			b->oom |= !h;
			set(b, o, "http", h);
		}
		push(b, a, o);
	}
	return a;
}

static json_t *j_number(double v)
{
	if (v == floor(v) && fabs(v) < 9e15)
		return json_integer((json_int_t)v);
	return json_real(v);
}

static void policy_spec(struct jb *b, json_t *s, const struct resource *r)
{
	const struct policy_spec *p = &r->u.policy;
	json_t *types = json_array();

	set_str(b, s, "tier", p->tier);
	if (kind_is_staged(r->kind))
		set_str(b, s, "stagedAction", staged_action_name(p->staged_action));
	if (kind_is_staged(r->kind) && p->staged_action == STAGED_DELETE) {
		json_decref(types); /* a Delete names a policy: nothing else */
		return;
	}
	if (p->has_order)
		set(b, s, "order", j_number(p->order));
	set_str(b, s, "selector", p->selector);
	set_str(b, s, "namespaceSelector", p->ns_selector);
	set_str(b, s, "serviceAccountSelector", p->sa_selector);
	if (p->n_ingress)
		set(b, s, "ingress", j_rules(b, p->ingress, p->n_ingress));
	if (p->n_egress)
		set(b, s, "egress", j_rules(b, p->egress, p->n_egress));
	if (types && (p->types & POLICY_TYPE_INGRESS))
		push(b, types, json_string("Ingress"));
	if (types && (p->types & POLICY_TYPE_EGRESS))
		push(b, types, json_string("Egress"));
	set(b, s, "types", types);
	if (p->do_not_track)
		set(b, s, "doNotTrack", json_true());
	if (p->pre_dnat)
		set(b, s, "preDNAT", json_true());
	if (p->apply_on_forward && kind_enforced(r->kind) == RES_GLOBAL_NETWORK_POLICY)
		set(b, s, "applyOnForward", json_true());
}

static json_t *j_named_ports(struct jb *b, const struct named_port *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		json_t *o = json_object();

		if (o) {
			set_str(b, o, "name", v[i].name);
			set(b, o, "protocol", j_protocol(&v[i].protocol));
			set(b, o, "port", json_integer(v[i].port));
		}
		push(b, a, o);
	}
	return a;
}

static void endpoint_spec(struct jb *b, json_t *s, const struct resource *r)
{
	const struct endpoint_spec *e = &r->u.ep;
	bool hep = r->kind == RES_HOST_ENDPOINT;

	set_str(b, s, "orchestrator", e->orchestrator);
	set_str(b, s, "workload", e->workload);
	set_str(b, s, "node", e->node);
	set_str(b, s, "containerID", e->container_id);
	set_str(b, s, "pod", e->pod);
	set_str(b, s, "endpoint", e->endpoint);
	set_str(b, s, "serviceAccountName", e->service_account);
	set_str(b, s, "interfaceName", e->iface);
	if (e->n_ips)
		set(b, s, hep ? "expectedIPs" : "ipNetworks", j_cidrs(e->ips, e->n_ips, !hep));
	if (e->n_profiles)
		set(b, s, "profiles", j_strv(e->profiles, e->n_profiles));
	set_str(b, s, "mac", e->mac);
	if (e->n_ports)
		set(b, s, "ports", j_named_ports(b, e->ports, e->n_ports));
	if (e->n_spoof)
		set(b, s, "allowSpoofedSourcePrefixes", j_cidrs(e->spoof, e->n_spoof, true));
}

static json_t *j_failsafe(struct jb *b, const struct failsafe *v, size_t n)
{
	json_t *a = json_array();
	char buf[64];

	for (size_t i = 0; a && i < n; i++) {
		json_t *o = json_object();

		if (o) {
			set_str(b, o, "protocol", protocol_name(v[i].protocol.num, API_V1));
			set(b, o, "port", json_integer(v[i].port));
			if (v[i].has_net) {
				cidr_format(&v[i].net, true, buf, sizeof(buf));
				set_str(b, o, "net", buf);
			}
		}
		push(b, a, o);
	}
	return a;
}

static void felix_spec(struct jb *b, json_t *s, const struct felix_spec *f)
{
	char buf[16];

	if (f->has_failsafe_in)
		set(b, s, "failsafeInboundHostPorts",
		    j_failsafe(b, f->failsafe_in, f->n_failsafe_in));
	if (f->has_failsafe_out)
		set(b, s, "failsafeOutboundHostPorts",
		    j_failsafe(b, f->failsafe_out, f->n_failsafe_out));
	set_str(b, s, "interfacePrefix", f->interface_prefix);
	set_str(b, s, "logPrefix", f->log_prefix);
	set_str(b, s, "defaultEndpointToHostAction", f->ep_to_host);
	set_str(b, s, "nftablesTableName", f->table_name);
	if (f->has_mark_mask) {
		snprintf(buf, sizeof(buf), "%#010x", f->mark_mask);
		set_str(b, s, "nftablesMarkMask", buf);
	}
	if (f->has_merge_allow)
		set(b, s, "nftablesMergeAllowPolicies", json_boolean(f->merge_allow));
	if (f->has_spoof_any)
		set_str(b, s, "workloadSourceSpoofing", f->spoof_any ? "Any" : "Disabled");
}

static json_t *j_spec(struct jb *b, const struct resource *r)
{
	json_t *s = json_object();

	if (!s)
		return NULL;
	switch (r->kind) {
	case RES_GLOBAL_NETWORK_POLICY:
	case RES_NETWORK_POLICY:
	case RES_STAGED_GLOBAL_NETWORK_POLICY:
	case RES_STAGED_NETWORK_POLICY: policy_spec(b, s, r); break;
	case RES_STAGED_K8S_NETWORK_POLICY:
		json_decref(s); /* the Kubernetes spec, as written */
		s = r->u.policy.k8s_spec ? json_loads(r->u.policy.k8s_spec, 0, NULL)
					 : json_object();
		b->oom |= !s;
		break;
	case RES_TIER:
		set(b, s, "order", j_number(r->u.tier.order));
		set_str(b, s, "defaultAction",
			r->u.tier.default_action == ACTION_PASS ? "Pass" : "Deny");
		break;
	case RES_HOST_ENDPOINT:
	case RES_WORKLOAD_ENDPOINT: endpoint_spec(b, s, r); break;
	case RES_GLOBAL_NETWORK_SET:
	case RES_NETWORK_SET:
		if (r->u.netset.n_nets)
			set(b, s, "nets", j_cidrs(r->u.netset.nets, r->u.netset.n_nets, true));
		break;
	case RES_PROFILE:
		if (r->u.profile.n_ingress)
			set(b, s, "ingress",
			    j_rules(b, r->u.profile.ingress, r->u.profile.n_ingress));
		if (r->u.profile.n_egress)
			set(b, s, "egress", j_rules(b, r->u.profile.egress, r->u.profile.n_egress));
		if (r->u.profile.labels_to_apply.n)
			set(b, s, "labelsToApply", j_labels(&r->u.profile.labels_to_apply));
		break;
	case RES_FELIX_CONFIGURATION: felix_spec(b, s, &r->u.felix); break;
	case RES_KIND_MAX: break;
	}
	return s;
}

json_t *resource_to_json(const struct resource *r, bool storage)
{
	const struct kind_info *k = kind_info(r->kind);
	json_t *o = json_object(), *m = json_object();
	struct jb b = { 0 };
	char *name = NULL;

	if (!o || !m)
		goto oom;
	set_str(&b, o, "apiVersion", "projectcalico.org/v3");
	set_str(&b, o, "kind", k->kind);
	name = storage && k->policy ? policy_name_to_storage(r->name) : strdup(r->name);
	set_str(&b, m, "name", name);
	b.oom |= !name;
	free(name);
	set_str(&b, m, "namespace", r->namespace);
	set_str(&b, m, "uid", r->uid);
	set_str(&b, m, "creationTimestamp", r->created);
	if (r->labels.n)
		set(&b, m, "labels", j_labels(&r->labels));
	if (r->annotations.n)
		set(&b, m, "annotations", j_labels(&r->annotations));
	set(&b, o, "metadata", m);
	m = NULL;
	set(&b, o, "spec", j_spec(&b, r));
	if (!b.oom)
		return o;
oom:
	json_decref(m);
	json_decref(o);
	return NULL;
}

char *resource_to_storage_json(const struct resource *r)
{
	json_t *j = resource_to_json(r, true);
	char *s;

	if (!j)
		return NULL;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
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
