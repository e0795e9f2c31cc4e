#!/bin/bash
# igvmkit run end to end: hand-assembled guests (tests/run/make_guest) on 1 and 2 vCPUs, a triple
# fault, a guest that loops until --timeout, one that pokes unknown ports and MMIO, the usage
# errors, and --json. Skips when /dev/kvm is not accessible.
set -u
IGVMKIT=cli/igvmkit
MAKE=tests/run/make_guest
if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
  echo "SKIPPED: /dev/kvm is not accessible; igvmkit run needs it"
  exit 0
fi
T=${TEST_TMPDIR:-$(mktemp -d)}
failures=0
check() {  # name want_status actual_status
  if [[ "$2" != "$3" ]]; then
    echo "FAIL: $1: exit status $3, want $2"
    failures=$((failures + 1))
  else
    echo "ok: $1"
  fi
}
expect_stderr() {  # name pattern file
  if ! grep -q -- "$2" "$3"; then
    echo "FAIL: $1: stderr lacks '$2':"
    cat "$3"
    failures=$((failures + 1))
  fi
}
json_field() {  # name want file python-expression-over-d
  local got
  got=$(python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($4)" "$3" 2>&1)
  if [[ "$got" != "$2" ]]; then
    echo "FAIL: $1: $4 is [$got], want [$2]; document:"
    cat "$3"
    failures=$((failures + 1))
  fi
}
for k in exit42 triple loop ports; do
  "$MAKE" "$k" "$T/$k.igvm" || { echo "FAIL: make_guest $k"; exit 1; }
done

"$IGVMKIT" run "$T/exit42.igvm" --timeout 20 >"$T/out" 2>"$T/err"
check "exit42 on 1 vcpu" 42 $?
"$IGVMKIT" run "$T/exit42.igvm" --cpus 2 --memory 64M --timeout 20 >"$T/out" 2>"$T/err"
check "exit42 on 2 vcpus" 42 $?

# --json: how the run ended, as the one document on stdout.
"$IGVMKIT" run "$T/exit42.igvm" --cpus 2 --memory 64M --timeout 20 --json >"$T/out" 2>"$T/err"
check "exit42 --json" 42 $?
json_field "exit42 --json status" 42 "$T/out" "d['exit_status']"
json_field "exit42 --json cause" "debug exit port 0xf4" "$T/out" "d['cause']"
json_field "exit42 --json machine" "kvm native 2 67108864" "$T/out" \
  "d['hypervisor'], d['platform'], d['vcpus'], d['memory_size']"

"$IGVMKIT" run "$T/triple.igvm" --timeout 20 >"$T/out" 2>"$T/err"
check "triple fault" 125 $?
# On AMD, KVM resets the vCPU before reporting the shutdown: the VMM then names the reset vector.
expect_stderr "triple fault" "^error: .*triple fault on vcpu 0 at rip \(0x100000\|0xfff0 (the reset vector: .*)\)$" "$T/err"
[[ $(wc -l <"$T/err") == 1 ]] || { echo "FAIL: triple fault: more than one stderr line"; failures=$((failures + 1)); }

start=$(date +%s%N)
"$IGVMKIT" run "$T/loop.igvm" --timeout 1 >"$T/out" 2>"$T/err"
status=$?
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "loop until --timeout" 125 $status
expect_stderr "loop" "^error: .*timeout on vcpu 0 at rip 0x100000$" "$T/err"
if (( elapsed_ms < 900 || elapsed_ms > 10000 )); then
  echo "FAIL: --timeout 1 took ${elapsed_ms} ms"
  failures=$((failures + 1))
fi

"$IGVMKIT" run "$T/ports.igvm" --timeout 20 >"$T/out" 2>"$T/err"
check "unknown ports and mmio are ignored" 7 $?

"$IGVMKIT" run "$T/exit42.igvm" --platform snp >"$T/out" 2>"$T/err"
check "snp without --insecure" 2 $?
expect_stderr "snp without --insecure" "pass --insecure" "$T/err"
"$IGVMKIT" run "$T/exit42.igvm" --platform snp --insecure >"$T/out" 2>"$T/err"
check "snp --insecure on a native-only file" 1 $?
expect_stderr "snp on native-only" "plan.platform\|snp" "$T/err"
if [[ ! -e /dev/mshv ]]; then
  "$IGVMKIT" run "$T/exit42.igvm" --hypervisor mshv >"$T/out" 2>"$T/err"
  check "mshv without /dev/mshv" 2 $?
  expect_stderr "mshv" "/dev/mshv" "$T/err"
  # --json: the error as a document on stdout too.
  "$IGVMKIT" run "$T/exit42.igvm" --hypervisor mshv --json >"$T/out" 2>"$T/err"
  check "mshv --json" 2 $?
  json_field "mshv --json rule" run.no_mshv "$T/out" "d['error']['rule']"
fi
"$IGVMKIT" run "$T/exit42.igvm" --memory 12Q >"$T/out" 2>"$T/err"
check "bad --memory" 2 $?
"$IGVMKIT" run "$T/missing.igvm" >"$T/out" 2>"$T/err"
check "missing file" 2 $?

# The demo: igvmkit build testdata/manifests/demo.toml, then the probe on 1 and 2 vCPUs. The
# manifest names the probe as ../../bazel-bin/testdata/guests/probe.elf, so lay the files out so.
mkdir -p "$T/demo/testdata/manifests" "$T/demo/bazel-bin/testdata/guests"
cp testdata/manifests/demo.toml testdata/manifests/probe-info.bin "$T/demo/testdata/manifests/"
cp testdata/guests/probe.elf "$T/demo/bazel-bin/testdata/guests/"
if ! "$IGVMKIT" build "$T/demo/testdata/manifests/demo.toml" -o "$T/demo.igvm" 2>"$T/err"; then
  echo "FAIL: igvmkit build demo.toml:"
  cat "$T/err"
  exit 1
fi
for cpus in 1 2; do
  "$IGVMKIT" run "$T/demo.igvm" --cpus "$cpus" --cmdline "hello probe" --timeout 30 \
    >"$T/probe$cpus" 2>"$T/err"
  check "probe on $cpus vcpu(s)" 0 $?
  # --json: the console moves to stderr, and the document counts its bytes.
  "$IGVMKIT" run "$T/demo.igvm" --cpus "$cpus" --cmdline "hello probe" --timeout 30 --json \
    >"$T/json$cpus" 2>"$T/console$cpus"
  check "probe --json on $cpus vcpu(s)" 0 $?
  json_field "probe --json serial bytes" "$(wc -c <"$T/probe$cpus")" "$T/json$cpus" \
    "d['stats']['serial_bytes']"
  cmp -s "$T/probe$cpus" "$T/console$cpus" ||
    { echo "FAIL: probe --json: the console on stderr differs"; failures=$((failures + 1)); }
  cat >"$T/want$cpus" <<WANT
probe: igvmkit probe 1
cmdline: hello probe
memmap[0]: gpa 0x0 pages 0x20000 type 0 flags 0
memmap: 1 entries
vp_count: $cpus
blob: (none)
probe: ok
WANT
  if ! diff -u "$T/want$cpus" "$T/probe$cpus"; then
    echo "FAIL: probe output on $cpus vcpu(s)"
    failures=$((failures + 1))
  fi
done

exit $((failures > 0))
