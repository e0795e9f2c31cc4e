#!/usr/bin/env bash
# igvmkit measure --ovmf end to end: sev-snp-measure's published digests through the CLI (fixtures
# of $IGVMKIT_SHARED/testdata/firmware), digests of Debian's OVMF recorded from reference runs,
# usage errors, exit statuses, --json and --trace shapes.
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/tests/lib/cli_test_lib.sh"
bin=cli/igvmkit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- usage errors (no fixture needed) ---
head -c 8192 /dev/zero >"$tmp/plain.fd"
$bin measure --platform snp >/dev/null 2>"$tmp/err"; expect "no input status" 2 $?
expect "no input" "error: measure takes an IGVM FILE or --ovmf FILE (one of them)" "$(cat "$tmp/err")"
$bin measure --platform snp --ovmf "$tmp/plain.fd" 2>"$tmp/err"; expect "no vcpu type status" 2 $?
expect "no vcpu type" "error: missing --vcpu-type or --vcpu-sig or --vcpu-family in guest mode 'snp'" "$(cat "$tmp/err")"
$bin measure --platform snp --ovmf "$tmp/plain.fd" --vcpu-type EPYC-X 2>"$tmp/err"; expect "bad vcpu type status" 2 $?
$bin measure --platform snp --ovmf "$tmp/plain.fd" --vcpu-sig 0x800f12 --initrd x 2>"$tmp/err"
expect "initrd without kernel" "error: --kernel required when using --initrd" "$(cat "$tmp/err")"
$bin measure --platform snp --ovmf "$tmp/plain.fd" --vcpu-sig 0x800f12 --vmm xen 2>"$tmp/err"
expect "bad vmm" "error: unknown VMM type 'xen' (qemu, ec2, gce)" "$(cat "$tmp/err")"
$bin measure --platform snp --ovmf "$tmp/plain.fd" --vcpu-sig 0x800f12 2>"$tmp/err"; expect "no table status" 1 $?
expect "no table" "error: $tmp/plain.fd: the image has no OVMF footer table (GUID 96b582de-1fb2-45f7-baea-a366c55a082d) for GUID 00f771de-1a7e-4fcb-890e-68c77e2fb44e, which an SEV-ES/SNP AP start needs" "$(cat "$tmp/err")"
$bin measure --platform tdx --ovmf "$tmp/plain.fd" 2>"$tmp/err"; expect "tdx no table status" 1 $?
$bin measure --platform snp --ovmf "$tmp/missing.fd" --vcpu-sig 1 2>/dev/null; expect "missing file status" 2 $?
# --host is for IGVM files; the default, kvm, may be given.
for h in mshv bogus; do
  $bin measure --platform snp --ovmf "$tmp/plain.fd" --vcpu-sig 0x800f12 --host $h 2>"$tmp/err"
  expect "ovmf --host $h status" 2 $?
  expect "ovmf --host $h" "error: --host and --native-zero are for IGVM files, not --ovmf" "$(cat "$tmp/err")"
done
$bin measure --platform snp --ovmf "$tmp/plain.fd" --vcpu-sig 0x800f12 --host kvm 2>/dev/null
expect "ovmf --host kvm status" 1 $?

# --- sev-snp-measure 8f2b337e tests/test_guest.py digests over its fixtures ---
F=${IGVMKIT_SHARED:-}/testdata/firmware
if have_shared testdata/firmware "sev-snp-measure fixtures"; then
  A=$F/ovmf_AmdSev_suffix.bin
  # The same launch wrapped into IGVM ([firmware] on [platform.snp], builder/README.md): equal
  # when pages without data are measured as native ZERO pages, different under QEMU's IGVM model.
  : >"$tmp/empty"
  printf '[platform.snp]\nvcpu_type = "EPYC-v4"\nsev_features = 0x21\n[memory]\nsize = "64M"\n[firmware]\nimage = "%s"\nkernel = "%s"\ninitrd = "%s"\ncmdline = "console=ttyS0 loglevel=7"\n' \
    "$A" "$tmp/empty" "$tmp/empty" >"$tmp/amdsev.toml"
  $bin build "$tmp/amdsev.toml" -o "$tmp/amdsev.igvm" >/dev/null; expect "wrapped amdsev builds" 0 $?
  expect "wrapped snp default" 803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977 \
    "$($bin measure "$tmp/amdsev.igvm" --platform snp --native-zero 2>/dev/null)"
  expect "wrapped trace = plain trace" \
    "$($bin measure --platform snp --ovmf "$A" --vcpu-type EPYC-v4 --guest-features 0x21 --kernel /dev/null --initrd /dev/null --append 'console=ttyS0 loglevel=7' --trace | grep -v '^[0-9a-f]\{96\}$')" \
    "$($bin measure "$tmp/amdsev.igvm" --platform snp --native-zero --trace 2>/dev/null | grep -v '^[0-9a-f]\{96\}$')"
  # 4 vCPUs (snp_4_vcpus_default: empty kernel, initrd and append): one VP context per vCPU.
  sed -e 's/^vcpu_type/vcpus = 4\nvcpu_type/' -e 's/^cmdline = .*/cmdline = ""/' "$tmp/amdsev.toml" >"$tmp/amdsev4.toml"
  $bin build "$tmp/amdsev4.toml" -o "$tmp/amdsev4.igvm" >/dev/null; expect "wrapped amdsev 4 vcpus builds" 0 $?
  expect "wrapped snp 4 vcpus" 4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942 \
    "$($bin measure "$tmp/amdsev4.igvm" --platform snp --native-zero --vcpus 4 2>/dev/null)"
  qemu_igvm=$($bin measure "$tmp/amdsev.igvm" --platform snp 2>/dev/null)
  [[ ${#qemu_igvm} == 96 && $qemu_igvm != 803f691094946e42* ]]; expect "qemu igvm model differs" 0 $?
  expect "snp default" 803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977 \
    "$($bin measure --platform snp --ovmf "$A" --vcpus 1 --vcpu-type EPYC-v4 --guest-features 0x21 --kernel /dev/null --initrd /dev/null --append 'console=ttyS0 loglevel=7')"
  expect "snp features 0x1 (default)" 6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa \
    "$($bin measure --platform snp --ovmf "$A" --vcpu-family 23 --vcpu-model 1 --vcpu-stepping 2 --kernel /dev/null --initrd /dev/null --append 'console=ttyS0 loglevel=7')"
  expect "snp ec2 (--vmm-type alias)" 0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056 \
    "$($bin measure --platform snp --ovmf "$A" --vmm-type ec2 --kernel /dev/null --initrd /dev/null --append '')"
  expect "snp gce 4 vcpus" 5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d \
    "$($bin measure --platform snp --ovmf "$A" --vcpus 4 --vmm gce --kernel /dev/null --initrd /dev/null)"
  expect "sev-es 4 vcpus" 0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91 \
    "$($bin measure --platform sev-es --ovmf "$A" --vcpus 4 --vcpu-sig 0x800f12 --kernel /dev/null --initrd /dev/null)"
  expect "sev" 77f613d7bbcdf12a73782ea9e88b0172aeda50d1a54201cb903594ff52846898 \
    "$($bin measure --platform sev --ovmf "$A" --kernel /dev/null)"
  range=$($bin measure --platform snp --ovmf "$F/svsm_ovmf.fd" --svsm "$F/svsm.bin" --vars-size 540672 --vcpus 2-4 --vcpu-type EPYC-v4)
  expect "svsm 2 vcpus (hardware)" "2 9b94745036aafddf4f7f8b00c7513abb5b7703178cb95aaa57928bd963d68d3bfcb715d6019b9167ee2517b11b0d9be7" "$(sed -n 1p <<<"$range")"
  expect "svsm 4 vcpus (hardware)" "4 27d154c27b7b359c935e250ec6fee72aa0ae8c1225e3b0e1cf46a9567e938066d7d6f94bbdc4a857818bdb79277a44b2" "$(sed -n 3p <<<"$range")"
  head -c 540672 /dev/zero >"$tmp/vars.fd"
  expect "svsm --vars-file" 9b94745036aafddf4f7f8b00c7513abb5b7703178cb95aaa57928bd963d68d3bfcb715d6019b9167ee2517b11b0d9be7 \
    "$($bin measure --platform snp --ovmf "$F/svsm_ovmf.fd" --svsm "$F/svsm.bin" --vars-file "$tmp/vars.fd" --vcpus 2 --vcpu-type EPYC-v4)"
  $bin measure --platform snp --ovmf "$F/ovmf_OvmfX64_suffix.bin" --vcpu-type EPYC-v4 --kernel /dev/null 2>"$tmp/err"
  expect "kernel without hashes section status" 1 $?
  expect "kernel without hashes section" "error: $F/ovmf_OvmfX64_suffix.bin: Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section" "$(cat "$tmp/err")"
  json=$($bin measure --platform snp --ovmf "$A" --vcpus 2 --vcpu-type EPYC-Milan --json --kernel /dev/null 2>/dev/null)
  expect "json" "snp kvm 2 0xa00f11 0xfffffffff000 True" "$(python3 -c '
import json, sys; d = json.loads(sys.argv[1]); a = d["assumptions"]
print(d["platform"], d["host"], d["vcpus"], a["vcpu_sig"], a["vmsa_gpa"], a["kernel_hashes"]["kernel_sha256"].startswith("e3b0c442"))' "$json")"
  trace=$($bin measure --platform snp --ovmf "$A" --vcpus 2 --vcpu-type EPYC-v4 --trace)
  expect "trace lines (1 OVMF page, 31 metadata pages, 2 VMSAs)" 34 "$(wc -l <<<"$trace")"
  expect "trace shape" 0 "$(grep -Ecv '^[0-9]+ [a-z]+ gpa=0x[0-9a-f]+ contents=([0-9a-f]{96}|zero) digest=[0-9a-f]{96}$' <<<"$trace")"
fi

# --- Debian 12 ovmf 2022.11-6+deb12u2 (tools/setup) ---
# SNP/SEV-ES/SEV digests: sev-snp-measure 8f2b337e run here on this OVMF_CODE.fd (2026-12-05).
# TDX MRTD of cat OVMF_VARS.fd OVMF_CODE.fd: computed by igvmkit and by a scratch implementation
# of tdx-measure's algorithm (tinfoilsh/tdx-measure src/tdvf.rs, single pass); no reference tool
# (tdx-measure, dstack-mr) could be built offline.
O=/usr/share/OVMF
if [[ "$(sha256sum "$O/OVMF_CODE.fd" 2>/dev/null | cut -c1-16)" != d9b568def24088c9 ||
      "$(sha256sum "$O/OVMF_VARS.fd" 2>/dev/null | cut -c1-16)" != 6ed987af3a3c155b ]]; then
  echo "SKIPPED PART: Debian's ovmf 2022.11-6+deb12u2 is not installed: its recorded digests not checked"
else
  expect "debian snp EPYC-Milan" 836d70ef6fb294660c2227b0f535c07f814a965442bccfa75a240f478a9f4abd1a63dd0c796f3a75d7f16b02b1d3b8ee \
    "$($bin measure --platform snp --ovmf "$O/OVMF_CODE.fd" --vcpu-type EPYC-Milan)"
  expect "debian snp 4 EPYC-Genoa 0x21" a9eb0f8b08c7c5cba6c90e3b37b78b3a44ceaad250a00ccfc066e6a4871f18688e29134279260c731267b28a268d33ca \
    "$($bin measure --platform snp --ovmf "$O/OVMF_CODE.fd" --vcpus 4 --vcpu-type EPYC-Genoa --guest-features 0x21)"
  expect "debian snp ec2" d678fcd1097a1ac27f2ee75dac7c37a002c9aa5e3e407c6a284b780a99af8f39df3283f1ed05526483cc5684f9b28630 \
    "$($bin measure --platform snp --ovmf "$O/OVMF_CODE.fd" --vcpus 2 --vmm ec2)"
  expect "debian snp gce" 4533a3de7876297e19711fc610bff6b9928ca050a81516b3dcbe8f410ce38ba4769b29060d00322cefa19e4abcbab4ed \
    "$($bin measure --platform snp --ovmf "$O/OVMF_CODE.fd" --vcpus 2 --vmm gce)"
  expect "debian snp EPYC-Turin" 59d2a4c7d17b73e09b8870ce9b73fd70e73df13e2554d4155bfc4bba217b0325acd74b07787f008af73b71b43be369ad \
    "$($bin measure --platform snp --ovmf "$O/OVMF_CODE.fd" --vcpu-type EPYC-Turin)"
  expect "debian sev-es" 02a0c4a5a76ee32cd799d5a26ffb2f2aff33fb3cc5d494e59b96b7e182add13f \
    "$($bin measure --platform sev-es --ovmf "$O/OVMF_CODE.fd" --vcpus 2 --vcpu-type EPYC-v4)"
  expect "debian sev" d9b568def24088c92f34b5479e0ed7e44d0a4d4cea8a0f5716719180bba48106 \
    "$($bin measure --platform sev --ovmf "$O/OVMF_CODE.fd")"
  cat "$O/OVMF_VARS.fd" "$O/OVMF_CODE.fd" >"$tmp/OVMF.fd"
  expect "debian tdx mrtd" 4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967fb231c47 \
    "$($bin measure --platform tdx --ovmf "$tmp/OVMF.fd")"
  trace=$($bin measure --platform tdx --ovmf "$tmp/OVMF.fd" --trace)
  # BFV 0x1e0 pages extended, CFV 0x20 added, TempMem 0x10 + 2, TD_HOB 2, TempMem 6.
  expect "tdx trace lines" $((0x1e0 + 0x20 + 0x10 + 2 + 2 + 6)) "$(wc -l <<<"$trace")"
  expect "tdx trace first" "0 page.add+extend gpa=0xffe20000" "$(head -n1 <<<"$trace")"
  $bin measure --platform tdx --ovmf "$O/OVMF_CODE.fd" 2>"$tmp/err"; expect "tdx code only status" 1 $?
  # testdata/manifests/firmware.toml wraps the same unified image: same MRTD (issue 14 item 4).
  $bin build testdata/manifests/firmware.toml -o "$tmp/fw.igvm" >/dev/null; expect "firmware.toml builds" 0 $?
  expect "firmware.toml tdx = tdvf" 4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967fb231c47 \
    "$($bin measure "$tmp/fw.igvm" --platform tdx)"
  $bin measure --platform tdx --ovmf "$tmp/OVMF.fd" --vcpus 2 2>/dev/null; expect "tdx vcpus status" 2 $?
  # ... and for SNP the plain launch of that unified image, with native ZERO pages (1 vCPU).
  expect "firmware.toml snp = plain launch" \
    "$($bin measure --platform snp --ovmf "$tmp/OVMF.fd" --vcpu-type EPYC-Milan)" \
    "$($bin measure "$tmp/fw.igvm" --platform snp --native-zero 2>/dev/null)"
  # OVMF_CODE.fd alone wrapped for SNP: sev-snp-measure's recorded digests above, through IGVM.
  for t in EPYC-Milan:836d70ef6fb294660c2227b0f535c07f814a965442bccfa75a240f478a9f4abd1a63dd0c796f3a75d7f16b02b1d3b8ee \
           EPYC-Turin:59d2a4c7d17b73e09b8870ce9b73fd70e73df13e2554d4155bfc4bba217b0325acd74b07787f008af73b71b43be369ad; do
    printf '[platform.snp]\nvcpu_type = "%s"\n[memory]\nsize = "512M"\n[firmware]\nimage = "%s"\n' \
      "${t%%:*}" "$O/OVMF_CODE.fd" >"$tmp/snp.toml"
    $bin build "$tmp/snp.toml" -o "$tmp/snp.igvm" >/dev/null; expect "debian snp ${t%%:*} builds" 0 $?
    expect "debian snp ${t%%:*} wrapped" "${t#*:}" \
      "$($bin measure "$tmp/snp.igvm" --platform snp --native-zero 2>/dev/null)"
  done
  # More than one vCPU: one VP context per vCPU in the file (the APs at the SEV-ES reset block's
  # entry), so `measure FILE --vcpus 4` is sev-snp-measure's 4-vCPU digest (EPYC-Genoa, 0x21).
  printf '[platform.snp]\nvcpus = 4\nvcpu_type = "EPYC-Genoa"\nsev_features = 0x21\n[memory]\nsize = "512M"\n[firmware]\nimage = "%s"\n' \
    "$O/OVMF_CODE.fd" >"$tmp/snp4.toml"
  $bin build "$tmp/snp4.toml" -o "$tmp/snp4.igvm" >/dev/null; expect "debian snp 4 vcpus builds" 0 $?
  $bin check "$tmp/snp4.igvm" >/dev/null; expect "debian snp 4 vcpus passes check" 0 $?
  expect "debian snp 4 vcpus wrapped" a9eb0f8b08c7c5cba6c90e3b37b78b3a44ceaad250a00ccfc066e6a4871f18688e29134279260c731267b28a268d33ca \
    "$($bin measure "$tmp/snp4.igvm" --platform snp --native-zero --vcpus 4 2>/dev/null)"
  # Under gce (SNP_SEC_MEM UNMEASURED) Debian's OVMF has no ZERO update, so QEMU's IGVM model (no
  # --native-zero) gives sev-snp-measure's 2-vCPU gce digest too.
  printf '[platform.snp]\nvcpus = 2\nvmm = "gce"\n[memory]\nsize = "512M"\n[firmware]\nimage = "%s"\n' \
    "$O/OVMF_CODE.fd" >"$tmp/gce2.toml"
  $bin build "$tmp/gce2.toml" -o "$tmp/gce2.igvm" >/dev/null; expect "debian snp gce 2 vcpus builds" 0 $?
  expect "debian snp gce 2 vcpus wrapped, qemu igvm model" 4533a3de7876297e19711fc610bff6b9928ca050a81516b3dcbe8f410ce38ba4769b29060d00322cefa19e4abcbab4ed \
    "$($bin measure "$tmp/gce2.igvm" --platform snp --host kvm --vcpus 2 2>/dev/null)"
  # Another vCPU count: a digest with a warning (QEMU refuses fewer vCPUs than VP contexts).
  $bin measure "$tmp/snp4.igvm" --platform snp --native-zero --vcpus 2 >/dev/null 2>"$tmp/err"
  expect "debian snp 4 vcpus measured with 2 status" 0 $?
  grep -q "qemu refuses a vp context for a vcpu the vm does not have: this launch needs at least 4 vcpus" "$tmp/err"
  expect "debian snp 4 vcpus measured with 2 warns" 0 $?
fi

finish PASS
