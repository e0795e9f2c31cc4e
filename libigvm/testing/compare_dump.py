"""compare_dump.py WALK.json DUMP.json: the headers libigvm hands out (testing/walk.c) are the
headers `igvmkit dump --json` shows: same sections, counts, types, fields and page contents."""
import hashlib
import json
import sys

walk = json.load(open(sys.argv[1]))
dump = json.load(open(sys.argv[2]))
errors = []


def check(where, got, want):
    if got != want:
        errors.append(f"{where}: libigvm {got!r} != dump {want!r}")


def compare_fields(where, w, d, skip=()):
    for key, value in w.items():
        if key in ("type_code", "data") or key in skip or key not in d:
            continue
        if isinstance(d[key], int):
            check(f"{where}.{key}", value, d[key])


for section in ("platforms", "initialization"):
    check(f"{section} count", len(walk[section]), len(dump[section]))
    for i, (w, d) in enumerate(zip(walk[section], dump[section])):
        check(f"{section}[{i}].type_code", w["type_code"], d["type_code"])
        compare_fields(f"{section}[{i}]", w, d)

# Directives: dump merges PAGE_DATA runs; expand them.
expected = []
for d in dump["directives"]:
    if d["type"] == "PAGE_DATA" and "first_index" in d:
        for k in range(d["pages"]):
            expected.append((d, k))
    else:
        expected.append((d, None))
check("directive count", len(walk["directives"]), len(expected))
run_bytes = {}
for i, (w, (d, k)) in enumerate(zip(walk["directives"], expected)):
    where = f"directives[{i}]"
    check(where + ".type_code", w["type_code"], d["type_code"])
    if k is None:
        compare_fields(where, w, d, skip=("gpa",) if d["type"] == "VP_CONTEXT" else ())
        continue
    check(where + ".gpa", w["gpa"], d["gpa"] + k * d["page_size"])
    compare_fields(where, w, d, skip=("gpa",))
    page = bytes.fromhex(w["data"]) if w["data"] else bytes(d["page_size"])
    # dump's run sha256 is over the pages' own SHA-256 digests, in order (igvm/README.md).
    run_bytes.setdefault(d["first_index"], [d, b""])[1] += hashlib.sha256(page).digest()
for first, (d, digests) in run_bytes.items():
    check(f"PAGE_DATA run #{first} sha256", hashlib.sha256(digests).hexdigest(), d["sha256"])

for e in errors:
    print("mismatch:", e)
sys.exit(1 if errors else 0)
