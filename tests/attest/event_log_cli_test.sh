#!/usr/bin/env bash
# igvmkit verify --event-log / --acpi-ccel end to end on the real GCP (COS 113) TD: its CCEL log
# replays to the quote's RTMRs (rtmr.0..3 pass), events are listed with their decoded text, the
# reference may pin named events; a damaged log or table is one error line naming that file.
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/tests/lib/cli_test_lib.sh"
IGVMKIT=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
need_shared testdata/attest
G=$IGVMKIT_SHARED/testdata/attest/intel/tdx/tdx03_v4_gcp_gotdx
TMP=$tmp

Q=(verify --offline --quote "$G/cos-113-tdx-quote.dat" --at 2025-07-01T00:00:00Z)
if expect_exit 0 "replay" -- "$IGVMKIT" "${Q[@]}" --event-log "$G/ccel_data.dat" --acpi-ccel "$G/ccel_table.dat"; then
  for i in 0 1 2 3; do contains "$TMP/out" "pass  rtmr.$i:" "replay rtmr.$i"; done
  contains "$TMP/out" "event 2  RTMR0  EV_EFI_VARIABLE_DRIVER_CONFIG" "variable event"
  contains "$TMP/out" "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c" "variable name"
  contains "$TMP/out" "[kernel]  /syslinux/vmlinuz.A" "kernel event"
  contains "$TMP/out" "[cmdline]  kernel_cmdline: /syslinux/vmlinuz.A" "cmdline event"
fi
if expect_exit 0 "replay --json" -- "$IGVMKIT" "${Q[@]}" --event-log "$G/ccel_data.dat" --json; then
  python3 - "$TMP/out" <<'PY' || fails=$((fails + 1))
import json, sys
v = json.load(open(sys.argv[1]))
log = v["fields"]["event_log"]
assert log["events"] == 43 and log["log_size"] == 18101, log["events"]
kernel = [e for e in log["list"] if e.get("name") == "kernel"]
assert len(kernel) == 1 and kernel[0]["rtmr"] == 2 and kernel[0]["type"] == "EV_IPL", kernel
names = {c["name"]: c["passed"] for c in v["checks"]}
assert all(names["rtmr.%d" % i] for i in range(4)), names
with open(sys.argv[1] + ".kernel", "w") as f:
    f.write(kernel[0]["digest"])
PY
fi

# Reference values pinning the kernel: the right digest passes, another fails naming the check.
KERNEL=$(cat "$TMP/out.kernel" 2>/dev/null)
MRTD=dae67181d3d65e073ad8f95b7907d5e927bfe9761c9ff3e9b89734a45d8954dba41394c7717cb2735396c1d04231f94a
printf '{"measurements":[{"platform":"tdx","digest":"%s"}],"policy":{"events":{"kernel":"%s"}}}' \
  "$MRTD" "$KERNEL" >"$TMP/ref.json"
expect_exit 0 "pinned kernel" -- "$IGVMKIT" "${Q[@]}" --event-log "$G/ccel_data.dat" --expect "$TMP/ref.json" &&
  contains "$TMP/out" "pass  ref.event.kernel" "pinned kernel"
expect_exit 1 "other kernel" -- "$IGVMKIT" "${Q[@]}" --event-log "$G/ccel_data.dat" \
  --policy "events={\"kernel\":\"$(printf '%096d' 0)\"}" && contains "$TMP/out" "FAIL  ref.event.kernel" "other kernel"
expect_exit 1 "pinned without log" -- "$IGVMKIT" "${Q[@]}" --expect "$TMP/ref.json" &&
  contains "$TMP/out" "FAIL  ref.event.kernel: no event log given" "pinned without log"

# A tampered digest (event 5, RTMR0) fails rtmr.0 only.
cp "$G/ccel_data.dat" "$TMP/tampered" && chmod u+w "$TMP/tampered"
printf '\x00' | dd of="$TMP/tampered" bs=1 seek=$((2825 + 14 + 7)) conv=notrunc status=none
expect_exit 1 "tampered" -- "$IGVMKIT" "${Q[@]}" --event-log "$TMP/tampered" &&
  contains "$TMP/out" "FAIL  rtmr.0" "tampered" && contains "$TMP/out" "pass  rtmr.1" "tampered rtmr.1"

# Truncated log and damaged table: one error line naming the file, exit 1.
head -c 10000 "$G/ccel_data.dat" >"$TMP/truncated"
expect_exit 1 "truncated" -- "$IGVMKIT" "${Q[@]}" --event-log "$TMP/truncated" &&
  contains "$TMP/err" "error: $TMP/truncated: " "truncated names the log" &&
  contains "$TMP/err" "runs past the end of the log" "truncated message"
[[ $(wc -l <"$TMP/err") -eq 1 ]] || { echo "FAIL: truncated: more than one error line"; fails=$((fails + 1)); }
cp "$G/ccel_table.dat" "$TMP/table" && chmod u+w "$TMP/table"
printf 'X' | dd of="$TMP/table" bs=1 seek=20 conv=notrunc status=none
expect_exit 1 "bad table checksum" -- "$IGVMKIT" "${Q[@]}" --event-log "$G/ccel_data.dat" --acpi-ccel "$TMP/table" &&
  contains "$TMP/err" "error: $TMP/table: " "table error names the table"

# Usage errors.
expect_exit 2 "event log on a report" -- "$IGVMKIT" verify --report x --event-log "$G/ccel_data.dat"
expect_exit 2 "table without log" -- "$IGVMKIT" "${Q[@]}" --acpi-ccel "$G/ccel_table.dat"
expect_exit 2 "missing log" -- "$IGVMKIT" "${Q[@]}" --event-log "$TMP/nonexistent"

finish "all event-log CLI checks passed"
