#!/usr/bin/env bash
# igvmkit plan over the loader's writer-made test images (loader/testing/igvm_images.h) on all five
# backends: exit statuses, one-line errors naming the header, the ops the image spec implies.
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/tests/lib/cli_test_lib.sh"
bin=cli/igvmkit
dir=${TEST_TMPDIR:-$(mktemp -d)}/images
mkdir -p "$dir"
loader/make_test_images "$dir" || { echo "FAIL: make_test_images"; exit 1; }
has() {  # has NAME PATTERN TEXT
  grep -qE -- "$2" <<<"$3" || { echo "FAIL: $1: no line matches [$2] in:"; echo "$3"; fails=$((fails + 1)); }
}
hasnt() {
  grep -qE -- "$2" <<<"$3" && { echo "FAIL: $1: a line matches [$2] in:"; echo "$3"; fails=$((fails + 1)); }
}

for b in kvm kvm-snp kvm-tdx mshv mshv-snp; do
  for img in "$dir"/*.igvm; do
    name=$(basename "$img" .igvm)
    out=$($bin plan "$img" --backend "$b" --memory 16M --cpus 2 2>&1); rc=$?
    if [[ $name == vmsa_per_vp && $b == kvm-snp ]]; then
      expect "$name $b refused" 1 $rc
      has "$name $b error" "^error: .*vmsa_per_vp.igvm: header #[0-9]+ \(VP_CONTEXT 0x304\) at offset 0x[0-9a-f]+: vmsa of vp 1 is at 0xffffffffe000" "$out"
      continue
    fi
    if [[ $name == vmsa_per_vp && $b == mshv-snp ]]; then
      expect "$name $b refused with 2 cpus" 1 $rc
      has "$name $b error" "^error: .*vmsa_per_vp.igvm: header #[0-9]+ \(VP_CONTEXT 0x304\) at offset 0x[0-9a-f]+: the file has a vmsa for vp 2 but the vm has 2 vcpus; give at least 3$" "$out"
      out=$($bin plan "$img" --backend "$b" --memory 16M --cpus 3 2>&1); rc=$?
      expect "$name $b with 3 cpus" 0 $rc
      has "$name $b third vmsa" "vp index=2 vmsa gpa=0xffffffffd000" "$out"
      continue
    fi
    expect "$name $b status" 0 $rc
    has "$name $b header" "^backend $b memory=0x1000000 vcpus=2$" "$out"
    has "$name $b first op maps RAM" "^0 map gpa=0x0 size=0x1000000 " "$out"
    has "$name $b last op" "^[0-9]+ finalize" "$(tail -n1 <<<"$out")"
    has "$name $b first page" " import gpa=0x100000 pages=[0-9]+ type=normal" "$out"
    case $b in
      kvm|mshv) has "$name $b registers" "vp index=0 registers rip=0x100000 " "$out" ;;
      kvm-snp) has "$name $b vmsa per vcpu" "vp index=1 vmsa gpa=0xfffffffff000" "$out" ;;
      kvm-tdx) hasnt "$name $b no vp state" " vp " "$out" ;;
      mshv-snp) has "$name $b vmsa where it stands" "vp index=0 vmsa gpa=0xfffffffff000" "$out" ;;
    esac
  done
done

out=$($bin plan "$dir/multi_page.igvm" --backend kvm --memory 16M)
has "multi_page coalesced data" "^1 import gpa=0x100000 pages=8 type=normal data=0x8000$" "$out"
has "multi_page coalesced zeros" "^2 import gpa=0x108000 pages=3 type=normal data=zero$" "$out"

out=$($bin plan "$dir/parameters.igvm" --backend mshv-snp --memory 16M --cmdline "console=ttyS0")
has "parameters area 0" "parameter gpa=0x200000 size=0x1000 holds=vp_count,command_line$" "$out"
has "parameters area 1" "parameter gpa=0x201000 size=0x2000 holds=memory_map$" "$out"

out=$($bin plan "$dir/secrets_cpuid.igvm" --backend kvm-snp --memory 16M)
has "secrets page" "import gpa=0x302000 pages=1 type=secrets" "$out"
has "cpuid page" "import gpa=0x303000 pages=1 type=cpuid" "$out"
out=$($bin plan "$dir/secrets_cpuid.igvm" --backend kvm-tdx --memory 16M)
hasnt "no snp pages on tdx" "0x302000" "$out"

out=$($bin plan "$dir/unmeasured_shared.igvm" --backend mshv-snp --memory 16M)
has "unmeasured page" "import gpa=0x300000 pages=1 type=unmeasured" "$out"
has "shared page" "import gpa=0x301000 pages=1 type=[a-z]+ shared" "$out"

out=$($bin plan "$dir/large_page.igvm" --backend kvm --memory 16M)
has "2 MiB page as 512 pages" "import gpa=0x400000 pages=512 type=normal data=0x200000" "$out"

out=$($bin plan "$dir/four_vps.igvm" --backend kvm --memory 16M --cpus 4 --json 2>/dev/null); rc=$?
expect "json status" 0 $rc
expect "json first line" "{" "$(head -n1 <<<"$out")"
expect "json is one document" "}" "$(tail -n1 <<<"$out")"
has "json backend" '"backend": "kvm"' "$out"
expect "json vp ops" 4 "$(grep -c '"kind": "registers"' <<<"$out")"

# Errors: usage (2), unreadable (2), memory too small for the file's pages (1).
$bin plan "$dir/single_page.igvm" --backend foo >/dev/null 2>&1; expect "bad backend" 2 $?
$bin plan "$dir/single_page.igvm" --backend kvm --memory 12Q >/dev/null 2>&1; expect "bad memory" 2 $?
$bin plan "$dir/missing.igvm" --backend kvm >/dev/null 2>&1; expect "missing file" 2 $?
$bin plan "$dir/single_page.igvm" --backend kvm --cpus 0 >/dev/null 2>&1; expect "zero cpus" 2 $?
$bin plan "$dir/single_page.igvm" --backend kvm --cpus 254 >/dev/null 2>&1; expect "254 cpus" 2 $?
$bin plan "$dir/single_page.igvm" --backend kvm --memory 4097 >/dev/null 2>&1; expect "odd memory" 2 $?
# One size grammar (base/size.h): hex bytes and KiB..TiB suffixes.
expect "hex memory" 1 "$($bin plan "$dir/single_page.igvm" --backend kvm --memory 0x1000000 | grep -c 'memory=0x1000000')"
expect "MiB memory" 1 "$($bin plan "$dir/single_page.igvm" --backend kvm --memory 16MiB | grep -c 'memory=0x1000000')"
expect "253 cpus" 1 "$($bin plan "$dir/single_page.igvm" --backend kvm --cpus 253 | grep -c 'vcpus=253')"

# VM options are usage errors (exit 2, one line naming the option) for plan and run alike
# (loader/vm_options.h); run parses them before it looks for a hypervisor.
usage_case() {  # usage_case NAME PATTERN ARGS...
  local name=$1 pattern=$2 out rc
  shift 2
  out=$($bin plan "$dir/single_page.igvm" --backend kvm "$@" 2>&1 >/dev/null); rc=$?
  expect "plan $name status" 2 $rc
  has "plan $name message" "$pattern" "$out"
  expect "plan $name one line" 1 "$(wc -l <<<"$out")"
  out=$($bin run "$dir/single_page.igvm" --hypervisor kvm "$@" 2>&1 >/dev/null); rc=$?
  expect "run $name status" 2 $rc
  has "run $name message" "$pattern" "$out"
  expect "run $name one line" 1 "$(wc -l <<<"$out")"
}
usage_case "cpus 0" '^error: --cpus must be between 1 and 253, not 0$' --cpus 0
usage_case "cpus 100000" '^error: --cpus must be between 1 and 253, not 100000$' --cpus 100000
usage_case "memory 0" '^error: --memory 0 is not a nonzero multiple of 4 KiB$' --memory 0
usage_case "memory 2^58" '^error: --memory 274877906944M does not fit the 52-bit guest physical address space of kvm guests' --memory 274877906944M
# The width is the backend's: 2^51 - 1 GiB of RAM (+ the 1 GiB gap) fits kvm-snp, 2^51 does not.
out=$($bin plan "$dir/gpa/page_below_2to51.igvm" --backend kvm-snp --memory 0x7ffffc0000000 2>&1); rc=$?
expect "kvm-snp memory up to 2^51" 0 $rc
out=$($bin plan "$dir/single_page.igvm" --backend kvm-snp --memory 0x8000000000000 2>&1); rc=$?
expect "kvm-snp memory 2^51" 2 $rc
has "kvm-snp memory 2^51 message" "51-bit guest physical address space of kvm-snp guests \\(the c-bit is bit 51\\)" "$out"

# Guest physical address widths (igvm/gpa.h): 52 bits on kvm/mshv, 51 on kvm-snp/mshv-snp (C-bit)
# and kvm-tdx (GPA.SHARED). A page, area or VP context at 2^52 is refused by every backend with one
# line naming the header; just below the width passes.
for b in kvm kvm-snp kvm-tdx mshv mshv-snp; do
  for img in page_at_2to52 area_at_2to52 vp_at_2to52 page_at_top; do
    [[ $img == vp_at_2to52 && $b == kvm-tdx ]] && continue  # no TDX VP context in the images
    out=$($bin plan "$dir/gpa/$img.igvm" --backend "$b" 2>&1); rc=$?
    expect "$img $b refused" 1 $rc
    has "$img $b message" "^error: .*/$img.igvm: header #[0-9]+ \\((PAGE_DATA|PARAMETER_INSERT|VP_CONTEXT) 0x3[0-9a-f]+\\) at offset 0x[0-9a-f]+: .* at 0x(10000000000000|fffffffffffff000) \\(0x1000 bytes\\) lies beyond the 5[12]-bit guest physical address space" "$out"
    expect "$img $b one line" 1 "$(wc -l <<<"$out")"
  done
  out=$($bin plan "$dir/gpa/page_below_2to51.igvm" --backend "$b" 2>&1); rc=$?
  expect "page below 2^51 on $b" 0 $rc
  has "page below 2^51 on $b imported" "import gpa=0x7fffffffff000 pages=1" "$out"
  out=$($bin plan "$dir/gpa/area_below_2to51.igvm" --backend "$b" 2>&1); rc=$?
  expect "area below 2^51 on $b" 0 $rc
  out=$($bin plan "$dir/gpa/page_below_2to52.igvm" --backend "$b" 2>&1); rc=$?
  case $b in
    kvm|mshv) expect "page below 2^52 on $b" 0 $rc ;;
    *) expect "page below 2^52 beyond 2^51 on $b" 1 $rc
       has "page below 2^52 on $b" "lies beyond the 51-bit" "$out" ;;
  esac
done

# plan, measure and check agree on the top page and on a 2 MiB page that wraps past 2^64.
top=$dir/gpa/page_at_top.igvm
out=$($bin measure "$top" --platform tdx 2>&1); rc=$?
expect "measure tdx top page" 1 $rc
has "measure tdx top page message" "PAGE_DATA .*: page data at 0xfffffffffffff000 \\(0x1000 bytes\\) lies beyond the 51-bit" "$out"
out=$($bin plan "$top" --backend kvm-tdx 2>&1); rc=$?
has "plan kvm-tdx top page message" "PAGE_DATA .*: page data at 0xfffffffffffff000 \\(0x1000 bytes\\) lies beyond the 51-bit" "$out"
out=$($bin check "$top" 2>&1); rc=$?
expect "check top page is valid" 0 $rc
has "check top page warns" "^warning: .*page_at_top.igvm: header #[0-9]+ \\(PAGE_DATA 0x302\\) at offset 0x[0-9a-f]+: page data at 0xfffffffffffff000 .* \\[gpa.width\\]$" "$out"
out=$($bin check "$top" --json 2>/dev/null); rc=$?
expect "check --json top page" 0 $rc
has "check --json top page warning" '"rule": "gpa.width"' "$out"
wrap=$dir/gpa/page2m_wraps.igvm
out=$($bin measure "$wrap" --platform tdx 2>&1); rc=$?
expect "measure tdx 2 MiB wrap" 1 $rc
has "measure tdx 2 MiB wrap message" "page data at 0xfffffffffffff000 \\(0x200000 bytes\\) wraps past the end of the 64-bit address space" "$out"
out=$($bin plan "$wrap" --backend kvm-tdx 2>&1); rc=$?
expect "plan kvm-tdx 2 MiB wrap" 1 $rc
has "plan kvm-tdx 2 MiB wrap message" "page data at 0xfffffffffffff000 \\(0x200000 bytes\\) wraps past the end of the 64-bit address space" "$out"
out=$($bin check "$wrap" 2>&1); rc=$?
expect "check strict 2 MiB wrap (misaligned)" 1 $rc
out=$($bin check "$wrap" --compat --json 2>/dev/null); rc=$?
expect "check --compat 2 MiB wrap" 0 $rc
has "check --compat --json wrap warning" '"rule": "gpa.wrap"' "$out"
out=$($bin check "$wrap" --compat 2>&1)
has "check --compat wrap warning" "^warning: .*: page data at 0xfffffffffffff000 \\(0x200000 bytes\\) wraps .* \\[gpa.wrap\\]$" "$out"

finish "all igvmkit plan cases passed"
