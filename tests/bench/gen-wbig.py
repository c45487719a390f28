#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""W-big: 1,000 policies x 10 rules x 20 distinct /24 source CIDRs, ports
{80, 443, 8000:9000}, all on one host endpoint.

gen-wbig.py yaml DIR [POLICIES]   the resources (for nftmgr)
gen-wbig.py anon FILE [POLICIES]  the same policies as an nft script with
                                  one anonymous set per rule (the baseline)
gen-wbig.py sets FILE [POLICIES]  the floor: the same addresses as one
                                  interval set per policy, nothing else

POLICIES defaults to 1,000 (W-big); 10,000 is W-huge (2,000,000 CIDRs).
"""
import os
import sys

POLICIES, RULES, CIDRS = 1000, 10, 20


def cidr(n):
    # distinct /24s, every other one from 11.0.0.0 on (W-big: 11.0.0.0/8 ..
    # 17.0.0.0/8; W-huge: .. 72.0.0.0/8), so that no two are adjacent and
    # nothing merges.
    n *= 2
    return "%d.%d.%d.0/24" % (11 + n // 65536, (n // 256) % 256, n % 256)


def rule_cidrs(p, r):
    base = (p * RULES + r) * CIDRS
    return [cidr(base + i) for i in range(CIDRS)]


def write_yaml(d):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "hep.yaml"), "w") as f:
        f.write("apiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
                "metadata: {name: node-eth1, labels: {role: public}}\n"
                "spec: {node: bench, interfaceName: eth1}\n")
    with open(os.path.join(d, "policies.yaml"), "w") as f:
        for p in range(POLICIES):
            f.write("---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
                    "metadata: {name: p%04d}\nspec:\n  order: %d\n"
                    "  selector: role == 'public'\n  ingress:\n" % (p, p))
            for r in range(RULES):
                f.write("  - action: Allow\n    protocol: TCP\n"
                        "    source: {nets: [%s]}\n"
                        "    destination: {ports: [80, 443, \"8000:9000\"]}\n"
                        % ", ".join(rule_cidrs(p, r)))


def write_sets(path):
    with open(path, "w") as f:
        f.write("table inet floor\ndelete table inet floor\ntable inet floor {\n")
        for p in range(POLICIES):
            f.write("\tset p%04d {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
                    "\t\telements = { %s }\n\t}\n"
                    % (p, ", ".join(c for r in range(RULES) for c in rule_cidrs(p, r))))
        f.write("}\n")


def write_anon(path):
    with open(path, "w") as f:
        f.write("table inet anon\ndelete table inet anon\ntable inet anon {\n"
                "\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n"
                "\t\tiifname \"eth1\" jump hep-eth1\n\t}\n\tchain hep-eth1 {\n")
        for p in range(POLICIES):
            f.write("\t\tjump p%04d\n" % p)
        f.write("\t\tdrop\n\t}\n")
        for p in range(POLICIES):
            f.write("\tchain p%04d {\n" % p)
            for r in range(RULES):
                f.write("\t\tip saddr { %s } tcp dport { 80, 443, 8000-9000 } counter accept\n"
                        % ", ".join(rule_cidrs(p, r)))
            f.write("\t}\n")
        f.write("}\n")


if __name__ == "__main__":
    WRITERS = {"yaml": write_yaml, "anon": write_anon, "sets": write_sets}
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in WRITERS:
        sys.exit(__doc__)
    if len(sys.argv) == 4:
        POLICIES = int(sys.argv[3])
        if not 1 <= POLICIES <= 30000:
            sys.exit("POLICIES: 1 to 30000")
    WRITERS[sys.argv[1]](sys.argv[2])
