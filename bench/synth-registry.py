"""Adds N synthetic tenants (t0000001, ...) to a t8k data root, written straight into the
registry layout t8k keeps: an entry, a place and a host key each, an env.json, and a hard link
to the site.db of the tenant `template` (so the builder has real databases to open).

    python3 bench/synth-registry.py ROOT N

Used by scripts/bench-registry.sh; max_tenants is set to N + 1000.
"""
import json, os, sys
root, n = sys.argv[1], int(sys.argv[2])
reg_path = f"{root}/config/t8k/tenants.json"
reg = json.load(open(reg_path))
domain = reg["domain"]
reg["max_tenants"] = n + 1000
json.dump(reg, open(reg_path, "w"), indent=2)
env = open(f"{root}/config/template/env.json").read()
tmpl = json.loads(open(f"{root}/config/t8k/tenants/template").read())
used = tmpl["slot"]
def put(path, text):
    with open(path, "w") as f:
        f.write(text)
for i in range(1, n + 1):
    tid = f"t{i:07d}"
    slot = i if i != used else 0
    put(f"{root}/config/t8k/tenants/{tid}", json.dumps({"id": tid, "domain": f"{tid}.{domain}",
        "custom_domains": [], "created": "2026-11-29T00:00:00Z", "active": True,
        "status": "active", "slot": slot}, indent=2) + "\n")
    put(f"{root}/config/t8k/slots/{slot}.json", json.dumps({"tenant": tid, "holder": ""}) + "\n")
    put(f"{root}/config/t8k/hosts/{tid}.{domain}.json", json.dumps({"tenant": tid}) + "\n")
    os.makedirs(f"{root}/config/{tid}")
    put(f"{root}/config/{tid}/env.json", env.replace('"template', f'"{tid}').replace("//template.", f"//{tid}."))
    os.makedirs(f"{root}/db/{tid}")
    os.link(f"{root}/db/template/site.db", f"{root}/db/{tid}/site.db")
put(f"{root}/config/t8k/slots-next.json", json.dumps({"next": n + 1}) + "\n")
