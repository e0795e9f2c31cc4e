// measureOvmfLaunch against published digests (ovmf/testing/vectors.h cites each source):
// sev-snp-measure's over its fixtures, which ../shared carries (testdata/firmware/MANIFEST.md), the
// two SVSM values read from real hardware, and sev-snp-measure's over Debian's OVMF. Tests skip
// with a message when IGVMKIT_SHARED is unset or Debian's ovmf build is another one.
#include "base/testing/matchers.h"
#include "measure/ovmf_launch.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "base/file.h"
#include "measure/tdx.h"
#include "ovmf/ovmf.h"
#include "ovmf/testing/image_builder.h"
#include "ovmf/testing/shared.h"
#include "ovmf/testing/vectors.h"

namespace igvmkit::measure {
namespace {

using ::igvmkit::testing::HasRule;

using ovmf::testing::kEpycV4Signature;
using ovmf::testing::LaunchMode;

constexpr uint32_t kEpycV4 = kEpycV4Signature;

Platform platformOf(LaunchMode mode) {
  switch (mode) {
    case LaunchMode::kSnp:
      return Platform::kSnp;
    case LaunchMode::kSevEs:
      return Platform::kSevEs;
    case LaunchMode::kSev:
      return Platform::kSev;
  }
  return Platform::kSnp;
}

struct Case {
  const char* name;
  const char* ovmf;
  Platform platform;
  uint32_t vcpus;
  uint64_t guest_features;
  VmmType vmm;
  bool kernel;  // empty kernel and initrd (/dev/null in sev-snp-measure's tests)
  std::optional<std::string> append;
};

Result<Measurement> run(const std::string& dir, const Case& c) {
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector image, readFile(dir + "/" + c.ovmf));
  // The firmware views `image`, which lives until the measurement returns.
  IGVMKIT_ASSIGN_OR_RETURN(ovmf::Firmware fw, ovmf::Firmware::parse(image));
  OvmfLaunchOptions o;
  o.platform = c.platform;
  o.vcpus = c.vcpus;
  o.vcpu_sig = kEpycV4;
  o.vmm = c.vmm;
  o.guest_features = c.guest_features;
  if (c.kernel) {
    IGVMKIT_ASSIGN_OR_RETURN(o.kernel_hashes, sevKernelHashes({}, {}, c.append));
  }
  return measureOvmfLaunch(fw, o);
}

TEST(SevSnpMeasureVectors, EveryPublishedDigest) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  for (const ovmf::testing::FixtureLaunch& v : ovmf::testing::kSevSnpMeasureFixtureLaunches) {
    const std::string name(v.name);
    Result<VmmType> vmm = parseVmmType(v.vmm);
    ASSERT_TRUE(vmm.ok()) << name;
    const std::string ovmf_name(v.ovmf);
    Case c{name.c_str(), ovmf_name.c_str(), platformOf(v.mode), v.vcpus, v.guest_features, *vmm,
           v.kernel, v.append ? std::optional<std::string>(*v.append) : std::nullopt};
    Result<Measurement> m = run(dir, c);
    ASSERT_TRUE(m.ok()) << name << ": " << m.error().describe();
    EXPECT_EQ(hexBytes(m->digest), v.digest) << name;
  }
}

TEST(SevSnpMeasureVectors, SvsmFromHardware) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  Result<MappedFile> ovmf_file = MappedFile::open(dir + "/svsm_ovmf.fd");
  Result<MappedFile> svsm_file = MappedFile::open(dir + "/svsm.bin");
  ASSERT_TRUE(ovmf_file.ok() && svsm_file.ok());
  Result<ovmf::Firmware> fw = ovmf::Firmware::parse(ovmf_file->bytes());
  ASSERT_TRUE(fw.ok()) << fw.error().describe();
  for (const ovmf::testing::SvsmLaunch& v : ovmf::testing::kSvsmHardwareLaunches) {
    OvmfLaunchOptions o;
    o.vcpus = v.vcpus;
    o.vcpu_sig = kEpycV4;
    o.guest_features = 0x21;  // ignored in SVSM mode, as by sev-snp-measure
    o.svsm = SvsmLaunch{svsm_file->bytes(), ovmf::testing::kSvsmVarsSize};
    Result<Measurement> m = measureOvmfLaunch(*fw, o);
    ASSERT_TRUE(m.ok()) << m.error().describe();
    EXPECT_EQ(hexBytes(m->digest), v.digest) << v.vcpus;
  }
}

// Debian's OVMF_CODE.fd: the digests sev-snp-measure printed for it, and the unified image's MRTD.
TEST(DebianOvmf, RecordedDigests) {
  IGVMKIT_DEBIAN_OVMF_OR_SKIP("OVMF_CODE.fd");
  IGVMKIT_DEBIAN_OVMF_OR_SKIP("OVMF_VARS.fd");
  const std::string dir = ovmf::testing::kDebianOvmfDir;
  Result<ByteVector> code = readFile(dir + "/OVMF_CODE.fd");
  ASSERT_TRUE(code.ok());
  Result<ovmf::Firmware> fw = ovmf::Firmware::parse(*code);
  ASSERT_TRUE(fw.ok()) << fw.error().describe();
  OvmfLaunchOptions sev;
  sev.platform = Platform::kSev;
  Result<Measurement> sha = measureOvmfLaunch(*fw, sev);  // SHA-256 of the image
  ASSERT_TRUE(sha.ok());
  if (hexBytes(sha->digest) != ovmf::testing::kDebianOvmfCodeSha256) {
    GTEST_SKIP() << dir << "/OVMF_CODE.fd is not the ovmf 2022.11-6+deb12u2 build the digests "
                 << "were recorded for";
  }
  for (const ovmf::testing::DebianLaunch& v : ovmf::testing::kDebianSevSnpMeasureLaunches) {
    SCOPED_TRACE(std::string(v.vmm) + " " + std::string(v.vcpu_type) + " x" +
                 std::to_string(v.vcpus));
    OvmfLaunchOptions o;
    o.platform = platformOf(v.mode);
    o.vcpus = v.vcpus;
    o.guest_features = v.guest_features;
    Result<VmmType> vmm = parseVmmType(v.vmm);
    ASSERT_TRUE(vmm.ok());
    o.vmm = *vmm;
    if (!v.vcpu_type.empty()) {
      Result<uint32_t> sig = vcpuSignatureOf(v.vcpu_type);
      ASSERT_TRUE(sig.ok());
      o.vcpu_sig = *sig;
    }
    Result<Measurement> m = measureOvmfLaunch(*fw, o);
    ASSERT_TRUE(m.ok()) << m.error().describe();
    EXPECT_EQ(hexBytes(m->digest), v.digest);
  }
  Result<ByteVector> vars = readFile(dir + "/OVMF_VARS.fd");
  ASSERT_TRUE(vars.ok());
  ByteVector unified = *vars;
  unified.insert(unified.end(), code->begin(), code->end());
  Result<ovmf::Firmware> tdvf = ovmf::Firmware::parse(unified);
  ASSERT_TRUE(tdvf.ok());
  OvmfLaunchOptions tdx;
  tdx.platform = Platform::kTdx;
  Result<Measurement> mrtd = measureOvmfLaunch(*tdvf, tdx);
  ASSERT_TRUE(mrtd.ok()) << mrtd.error().describe();
  EXPECT_EQ(hexBytes(mrtd->digest), ovmf::testing::kDebianUnifiedTdxMrtd);
}

TEST(SevSnpMeasureVectors, KernelWithoutHashesSectionFailsAsSevSnpMeasure) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  for (Platform p : {Platform::kSnp, Platform::kSevEs, Platform::kSev}) {
    Case c{"x", "ovmf_OvmfX64_suffix.bin", p, 1, 0x21, VmmType::kQemu, true, ""};
    Result<Measurement> m = run(dir, c);
    ASSERT_FALSE(m.ok());
    EXPECT_THAT(m, HasRule("ovmf_launch.kernel_hashes"));
    EXPECT_EQ(m.error().message,
              p == Platform::kSnp
                  ? "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section"
                  : "Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement");
  }
}

TEST(SevSnpMeasureVectors, TraceListsEveryPage) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  ByteVector image = *readFile(dir + "/ovmf_AmdSev_suffix.bin");
  ovmf::Firmware fw = *ovmf::Firmware::parse(image);
  OvmfLaunchOptions o;
  o.vcpus = 2;
  o.vcpu_sig = kEpycV4;
  std::vector<std::string> lines;
  o.trace = [&lines](const std::string& l) { lines.push_back(l); };
  Result<Measurement> m = measureOvmfLaunch(fw, o);
  ASSERT_TRUE(m.ok());
  // 1 OVMF page; sections: 9 + 3 zero, secrets, cpuid, caa, 1 hashes (zero), 15 zero; 2 VMSAs.
  ASSERT_EQ(lines.size(), 1u + 9 + 3 + 1 + 1 + 1 + 1 + 15 + 2);
  EXPECT_EQ(m->pages_measured, lines.size());
  EXPECT_EQ(lines[0].substr(0, 23), "0 normal gpa=0xfffff000");
  EXPECT_EQ(lines.back().substr(0, 27), "33 vmsa gpa=0xfffffffff000 ");
  EXPECT_NE(lines.back().find(hexBytes(m->digest)), std::string::npos);
}

TEST(VcpuTypes, Signatures) {
  EXPECT_EQ(vcpuSignature(23, 1, 2), 0x800F12u);   // EPYC
  EXPECT_EQ(vcpuSignature(23, 49, 0), 0x830F10u);  // EPYC-Rome
  EXPECT_EQ(vcpuSignature(25, 1, 1), 0xA00F11u);   // EPYC-Milan
  EXPECT_EQ(vcpuSignature(25, 17, 0), 0xA10F10u);  // EPYC-Genoa
  EXPECT_EQ(vcpuSignature(26, 0, 0), 0xB00F00u);   // EPYC-Turin
  EXPECT_EQ(knownVcpuTypes().size(), 16u);
  for (std::string_view name : knownVcpuTypes()) {
    EXPECT_TRUE(vcpuSignatureOf(name).ok()) << name;
  }
  EXPECT_EQ(*vcpuSignatureOf("EPYC-Milan-v2"), 0xA00F11u);
  EXPECT_EQ(vcpuSignatureOf("EPYC-Foo").error().code, Code::kUsage);
}

TEST(Tdx, RefusesTheCodeOnlyImage) {
  IGVMKIT_DEBIAN_OVMF_OR_SKIP("OVMF_CODE.fd");
  Result<MappedFile> code = MappedFile::open("/usr/share/OVMF/OVMF_CODE.fd");
  ASSERT_TRUE(code.ok());
  ovmf::Firmware fw = *ovmf::Firmware::parse(code->bytes());
  OvmfLaunchOptions o;
  o.platform = Platform::kTdx;
  Result<Measurement> m = measureOvmfLaunch(fw, o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message,
            "TDVF section #0 (BFV): data 0x20000 + 0x1e0000 is not inside the image (size "
            "0x1e0000): TDX launches the unified image, OVMF_VARS + OVMF_CODE");
}

// A small synthetic TDVF whose MRTD is computed here from the definition (measurement.md §3.1)
// with the TdxMrtd primitives: one extended BFV page, one added-only CFV page, a TD_HOB page.
TEST(Tdx, SectionsPageByPage) {
  ByteVector image =
      ovmf::testing::ImageBuilder(0x3000)
          .tdxMetadata({{0x1000, 0x1000, 0xfffff000, 0x1000, ovmf::TdvfSectionType::kBfv, 1},
                        {0x0, 0x1000, 0xffffe000, 0x1000, ovmf::TdvfSectionType::kCfv, 0},
                        {0, 0, 0x809000, 0x1000, ovmf::TdvfSectionType::kTdHob, 0}})
          .put(0x1000, ByteVector(16, std::byte{0xAB}))
          .build();
  ovmf::Firmware fw = *ovmf::Firmware::parse(image);
  OvmfLaunchOptions o;
  o.platform = Platform::kTdx;
  std::vector<std::string> lines;
  o.trace = [&lines](const std::string& l) { lines.push_back(l); };
  Result<Measurement> m = measureOvmfLaunch(fw, o);
  ASSERT_TRUE(m.ok()) << m.error().describe();
  TdxMrtd want;
  ASSERT_TRUE(want.addPage(0xfffff000, Bytes(image).subspan(0x1000, 0x1000), true).ok());
  ASSERT_TRUE(want.pageAdd(0xffffe000).ok());
  ASSERT_TRUE(want.pageAdd(0x809000).ok());
  EXPECT_EQ(hexBytes(m->digest), hexDigest(*want.result()));
  EXPECT_EQ(lines, (std::vector<std::string>{"0 page.add+extend gpa=0xfffff000",
                                             "1 page.add gpa=0xffffe000",
                                             "2 page.add gpa=0x809000"}));
}

}  // namespace
}  // namespace igvmkit::measure
