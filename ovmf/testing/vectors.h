// ovmf/testing/vectors.h: the published launch digests of OVMF images, each table with its source
// cited once. measure/ovmf_launch_test checks measureOvmfLaunch() against them, builder/
// firmware_test the same launches wrapped into IGVM ([firmware]); //cli:measure_ovmf_cli_test
// repeats a few through the CLI.
//
//   for (const ovmf::testing::FixtureLaunch& v : ovmf::testing::kSevSnpMeasureFixtureLaunches) {
//     ... readFile(dir + "/" + std::string(v.ovmf)) ..., EXPECT_EQ(hex, v.digest) << v.name;
//   }
//
// Launch options are spelled as sev-snp-measure spells them (mode, vmm type), so this library
// needs nothing from measure/.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace igvmkit::ovmf::testing {

// sev-snp-measure --mode.
enum class LaunchMode { kSnp, kSevEs, kSev };

// CPUID(1).EAX of QEMU's EPYC-v4 (family 23, model 1, stepping 2), the vCPU type of every
// sev-snp-measure fixture test.
inline constexpr uint32_t kEpycV4Signature = 0x800F12;

struct FixtureLaunch {
  std::string_view name;  // the test in sev-snp-measure's tests/test_guest.py
  std::string_view ovmf;  // fixture in $IGVMKIT_SHARED/testdata/firmware (MANIFEST.md)
  LaunchMode mode;
  uint32_t vcpus;
  uint64_t guest_features;
  std::string_view vmm;  // "qemu", "ec2", "gce"
  bool kernel;           // an empty kernel and initrd (/dev/null in test_guest.py)
  std::optional<std::string_view> append;
  std::string_view digest;
};

// virtee/sev-snp-measure 8f2b337e38bc, tests/test_guest.py: every launch-digest test that does not
// seed the chain (--snp-ovmf-hash), over its fixtures as ../shared/testdata/firmware carries them
// (MANIFEST.md), vCPU type EPYC-v4.
inline constexpr FixtureLaunch kSevSnpMeasureFixtureLaunches[] = {
    {"snp_default", "ovmf_AmdSev_suffix.bin", LaunchMode::kSnp, 1, 0x21, "qemu", true,
     "console=ttyS0 loglevel=7",
     "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977"},
    {"snp_guest_feature_snp_only", "ovmf_AmdSev_suffix.bin", LaunchMode::kSnp, 1, 0x1, "qemu", true,
     "console=ttyS0 loglevel=7",
     "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa"},
    {"snp_ec2_default", "ovmf_AmdSev_suffix.bin", LaunchMode::kSnp, 1, 0x21, "ec2", true, "",
     "0ce9ccc06bab55eebe8abc234f3df6514883977a68a591b71052498ab52b2f1aa415db338033946ef93aa8278c0d67fb"},
    {"snp_ec2_feature_snp_only", "ovmf_AmdSev_suffix.bin", LaunchMode::kSnp, 1, 0x1, "ec2", true, "",
     "0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056"},
    {"snp_gce_default", "ovmf_AmdSev_suffix.bin", LaunchMode::kSnp, 1, 0x1, "gce", true, "",
     "5da7106cf14cf46b1725ebab123eb9e53bd46a1e9f400cd0c08e7827b04b688ea8b4e403c8404efed4397ea5d5d0722e"},
    {"snp_gce_4_vcpus", "ovmf_AmdSev_suffix.bin", LaunchMode::kSnp, 4, 0x1, "gce", true, "",
     "5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d"},
    {"snp_without_kernel_default", "ovmf_AmdSev_suffix.bin", LaunchMode::kSnp, 1, 0x21, "qemu",
     false, std::nullopt,
     "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b"},
    {"snp_without_kernel_feature_snp_only", "ovmf_AmdSev_suffix.bin", LaunchMode::kSnp, 1, 0x1,
     "qemu", false, std::nullopt,
     "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d"},
    {"snp_4_vcpus_default", "ovmf_AmdSev_suffix.bin", LaunchMode::kSnp, 4, 0x21, "qemu", true, "",
     "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942"},
    {"snp_4_vcpus_feature_snp_only", "ovmf_AmdSev_suffix.bin", LaunchMode::kSnp, 4, 0x1, "qemu",
     true, "",
     "5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5"},
    {"snp_ovmfx64_default", "ovmf_OvmfX64_suffix.bin", LaunchMode::kSnp, 1, 0x21, "qemu", false,
     std::nullopt,
     "28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a64c385"},
    {"snp_ovmfx64_feature_snp_only", "ovmf_OvmfX64_suffix.bin", LaunchMode::kSnp, 1, 0x1, "qemu",
     false, std::nullopt,
     "da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005"},
    {"seves", "ovmf_AmdSev_suffix.bin", LaunchMode::kSevEs, 1, 0x1, "qemu", true, "",
     "13810ae661ea11e2bb205621f582fee268f0367c8f97bc297b7fadef3e12002c"},
    {"seves_4_vcpus", "ovmf_AmdSev_suffix.bin", LaunchMode::kSevEs, 4, 0x21, "qemu", true, "",
     "0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91"},
    {"sev", "ovmf_AmdSev_suffix.bin", LaunchMode::kSev, 1, 0x21, "qemu", true,
     "console=ttyS0 loglevel=7", "82a3ee5d537c3620628270c292ae30cb40c3c878666a7890ee7ef2a08fb535ff"},
    {"sev_kernel_without_initrd_and_append", "ovmf_AmdSev_suffix.bin", LaunchMode::kSev, 1, 0x21,
     "qemu", true, std::nullopt,
     "77f613d7bbcdf12a73782ea9e88b0172aeda50d1a54201cb903594ff52846898"},
    {"sev_ovmfx64_without_kernel", "ovmf_OvmfX64_suffix.bin", LaunchMode::kSev, 1, 0x21, "qemu",
     false, std::nullopt, "b4c021e085fb83ceffe6571a3d357b4a98773c83c474e47f76c876708fe316da"},
};

struct SvsmLaunch {
  uint32_t vcpus;
  std::string_view digest;
};

// sev-snp-measure test_snp_svsm_{4,2}_vcpus: read from real hardware (QEMU coconut-svsm 0e64fb84,
// host kernel e1335c6f0; MANIFEST.md) for svsm_ovmf.fd + svsm.bin, EPYC-v4, QEMU, guest features
// 0x21 (ignored in SVSM mode), OVMF vars of kSvsmVarsSize bytes.
inline constexpr uint64_t kSvsmVarsSize = 540672;
inline constexpr SvsmLaunch kSvsmHardwareLaunches[] = {
    {4, "27d154c27b7b359c935e250ec6fee72aa0ae8c1225e3b0e1cf46a9567e938066d7d6f94bbdc4a857818bdb79277a44b2"},
    {2, "9b94745036aafddf4f7f8b00c7513abb5b7703178cb95aaa57928bd963d68d3bfcb715d6019b9167ee2517b11b0d9be7"},
};

// Debian 12's ovmf 2022.11-6+deb12u2 (tools/setup): /usr/share/OVMF/OVMF_CODE.fd has this SHA-256
// (which is also its SEV launch digest); tests skip the recorded values for any other build.
inline constexpr std::string_view kDebianOvmfCodeSha256 =
    "d9b568def24088c92f34b5479e0ed7e44d0a4d4cea8a0f5716719180bba48106";

struct DebianLaunch {
  LaunchMode mode;
  uint32_t vcpus;
  std::string_view vcpu_type;  // QEMU -cpu model; "" where none was given (ec2 and gce put 0x600
                               // in RDX, SEV has no VMSA)
  uint64_t guest_features;
  std::string_view vmm;
  std::string_view digest;
};

// sev-snp-measure 8f2b337e run here over Debian's OVMF_CODE.fd (no kernel, 2026-12-05; the tool was
// fetched for the run and not kept).
inline constexpr DebianLaunch kDebianSevSnpMeasureLaunches[] = {
    {LaunchMode::kSnp, 1, "EPYC-Milan", 0x1, "qemu",
     "836d70ef6fb294660c2227b0f535c07f814a965442bccfa75a240f478a9f4abd1a63dd0c796f3a75d7f16b02b1d3b8ee"},
    {LaunchMode::kSnp, 4, "EPYC-Genoa", 0x21, "qemu",
     "a9eb0f8b08c7c5cba6c90e3b37b78b3a44ceaad250a00ccfc066e6a4871f18688e29134279260c731267b28a268d33ca"},
    {LaunchMode::kSnp, 2, "", 0x1, "ec2",
     "d678fcd1097a1ac27f2ee75dac7c37a002c9aa5e3e407c6a284b780a99af8f39df3283f1ed05526483cc5684f9b28630"},
    {LaunchMode::kSnp, 2, "", 0x1, "gce",
     "4533a3de7876297e19711fc610bff6b9928ca050a81516b3dcbe8f410ce38ba4769b29060d00322cefa19e4abcbab4ed"},
    {LaunchMode::kSnp, 1, "EPYC-Turin", 0x1, "qemu",
     "59d2a4c7d17b73e09b8870ce9b73fd70e73df13e2554d4155bfc4bba217b0325acd74b07787f008af73b71b43be369ad"},
    {LaunchMode::kSevEs, 2, "EPYC-v4", 0x1, "qemu",
     "02a0c4a5a76ee32cd799d5a26ffb2f2aff33fb3cc5d494e59b96b7e182add13f"},
    {LaunchMode::kSev, 1, "", 0x1, "qemu", kDebianOvmfCodeSha256},
};

// The TDX MRTD of Debian's unified image (cat OVMF_VARS.fd OVMF_CODE.fd, QEMU's -bios for a TD):
// computed by igvmkit and, independently, by a scratch implementation of tdx-measure's algorithm
// (tinfoilsh/tdx-measure 046ad697 src/tdvf.rs, single pass); tdx-measure and dstack-mr need
// crates.io and could not be built here. Not a reference tool's output.
inline constexpr std::string_view kDebianUnifiedTdxMrtd =
    "4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967fb231c47";

}  // namespace igvmkit::ovmf::testing
