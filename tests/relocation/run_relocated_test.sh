#!/bin/bash
# igvmkit run of a relocated guest on /dev/kvm: the guest exits with the MiB its code runs at, so
# the exit status shows the loader really moved it (and patched RIP and the page tables); a guest
# that reads its old address triple-faults once relocated (the old mapping is gone). Skips when
# /dev/kvm is not accessible.
set -u
IGVMKIT=cli/igvmkit
MAKE=tests/relocation/make_reloc_guest
if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
  echo "SKIPPED: /dev/kvm is not accessible; igvmkit run needs it"
  exit 0
fi
T=${TEST_TMPDIR:-$(mktemp -d)}
failures=0
check() {  # name want got
  if [[ "$2" != "$3" ]]; then
    echo "FAIL: $1: exit status $3, want $2"
    failures=$((failures + 1))
  else
    echo "ok: $1"
  fi
}
for k in where touch_old; do
  mkdir -p "$T/$k"
  "$MAKE" "$k" "$T/$k" || { echo "FAIL: make_reloc_guest $k"; exit 1; }
  "$IGVMKIT" build "$T/$k/reloc.toml" -o "$T/$k.igvm" || { echo "FAIL: build $k"; exit 1; }
done

"$IGVMKIT" run "$T/where.igvm" --memory 64M --relocate keep --timeout 20 >/dev/null 2>"$T/err"
check "keep: runs at 1 MiB" 1 $?
"$IGVMKIT" run "$T/where.igvm" --memory 64M --relocate 0x2000000 --timeout 20 >/dev/null 2>"$T/err"
check "user base: runs at 32 MiB" 32 $?
"$IGVMKIT" run "$T/where.igvm" --memory 64M --timeout 20 >/dev/null 2>"$T/err"
check "default (highest): runs at 63 MiB" 63 $?
"$IGVMKIT" run "$T/where.igvm" --memory 64M --relocate 0x2000000 --relocate page-tables=0x1000000 \
  --timeout 20 >/dev/null 2>"$T/err"
check "tables moved too (new cr3)" 32 $?

"$IGVMKIT" run "$T/touch_old.igvm" --memory 64M --relocate keep --timeout 20 >/dev/null 2>"$T/err"
check "touch_old at its own place" 1 $?
"$IGVMKIT" run "$T/touch_old.igvm" --memory 64M --relocate 0x2000000 --timeout 20 >/dev/null 2>"$T/err"
check "touch_old relocated: the old mapping is gone" 125 $?
# On AMD, KVM resets the vCPU before reporting the shutdown, so the rip there is the reset vector.
grep -q "triple fault on vcpu 0 at rip \(0x2000000\|0xfff0 (the reset vector\)" "$T/err" || {
  echo "FAIL: touch_old: stderr:"; cat "$T/err"; failures=$((failures + 1)); }

[[ $failures == 0 ]] && echo PASS
exit $failures
