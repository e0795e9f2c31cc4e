#!/usr/bin/env bash
# The SNP launch digest of bench/make_big_igvm's file computed twice in one run: by
# `igvmkit measure --platform snp` (kvm host model, 1 vCPU) and by sev-snp-measure's GCTX class
# (virtee/sev-snp-measure, Python), driven by the page operations the kvm host model defines for
# that file. The two digests must be equal (a 1 GiB cross-check against a peer), then the times
# are compared.
#   bench/measure_vs_sev_snp_measure.sh SEV_SNP_MEASURE_CHECKOUT [MIB]
# The checkout is a local clone of virtee/sev-snp-measure; nothing of it is part of igvmkit. Its
# only dependency for GCTX is Python's hashlib.
set -euo pipefail
peer=${1:?usage: $0 SEV_SNP_MEASURE_CHECKOUT [MIB]}
mib=${2:-1024}
[[ -f "$peer/sevsnpmeasure/gctx.py" ]] || { echo "error: $peer has no sevsnpmeasure/gctx.py" >&2; exit 2; }
bazel build //bench:make_big_igvm //cli:igvmkit >/dev/null 2>&1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bazel-bin/bench/make_big_igvm "$tmp/big.igvm" "$mib" >/dev/null
cat "$tmp/big.igvm" >/dev/null  # warm the page cache
timed() {  # timed THREADS: prints "<digest> <seconds>" for the whole igvmkit process
  local start end digest
  start=$(date +%s.%N)
  digest=$(bazel-bin/cli/igvmkit measure "$tmp/big.igvm" --platform snp --threads "$1" 2>/dev/null)
  end=$(date +%s.%N)
  printf '%s %.2f\n' "$digest" "$(echo "$end - $start" | bc)"
}
read -r ours ours_s < <(timed 1)
read -r ours2 ours2_s < <(timed 2)
# The driver regenerates make_big_igvm's pages (page i holds the little-endian u64 words
# i*512+1 .. i*512+512, at GPA 0x100000 + i*4 KiB), then replays the kvm host model's operations:
# every page NORMAL in file order, the one-page parameter area at 0x1000 UNMEASURED, and the
# VMSA (zero but sev_features = 1 at 0x3b0) last at 0xFFFFFFFFF000. Only the GCTX calls are timed.
read -r theirs theirs_s < <(PYTHONPATH="$peer" python3 - "$mib" <<'PY'
import sys, time
from array import array
from sevsnpmeasure.gctx import GCTX
pages = int(sys.argv[1]) * 256
data = bytearray()
for i in range(pages):
    data += array("Q", range(i * 512 + 1, i * 512 + 513)).tobytes()
vmsa = bytearray(4096)
vmsa[0x3B0] = 1
t0 = time.perf_counter()
g = GCTX()
g.update_normal_pages(0x100000, bytes(data))
g.update_unmeasured_pages(0x1000, 4096)
g.update_vmsa_page(bytes(vmsa))
print(g.hex_ld(), f"{time.perf_counter() - t0:.2f}")
PY
)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "igvmkit measure, 1 thread (whole process):  $ours_s s  $ours"
echo "igvmkit measure, 2 threads (whole process): $ours2_s s  $ours2"
echo "sev-snp-measure GCTX (hashing calls only):  $theirs_s s  $theirs"
if [[ "$ours" != "$theirs" || "$ours2" != "$theirs" ]]; then
  echo "error: the digests differ" >&2
  exit 1
fi
echo "digests equal; sev-snp-measure / igvmkit: $(echo "scale=2; $theirs_s / $ours_s" | bc)x (1 thread)," \
  "$(echo "scale=2; $theirs_s / $ours2_s" | bc)x (2 threads)"
