#!/usr/bin/env bash
# igvmkit plan over the loader's writer-made test images (loader/testing/igvm_images.h) on all five
# backends: exit statuses, one-line errors naming the header, the ops the image spec implies.
set -uo pipefail
bin=cli/igvmkit
dir=${TEST_TMPDIR:-$(mktemp -d)}/images
mkdir -p "$dir"
loader/make_test_images "$dir" || { echo "FAIL: make_test_images"; exit 1; }
fails=0
expect() {  # expect NAME WANT GOT
  if [[ "$2" != "$3" ]]; then
    echo "FAIL: $1: want [$2] got [$3]"
    fails=$((fails + 1))
  fi
}
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

if [[ $fails -ne 0 ]]; then
  exit 1
fi
echo "all igvmkit plan cases passed"
