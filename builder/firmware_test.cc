// [firmware] on [platform.tdx]: a TDVF is laid out as QEMU launches it, so the built file's MRTD
// equals measure::measureOvmfLaunch's for the same image (which matches tdx-measure's algorithm,
// measure/ovmf_launch_test.cc and //cli:measure_ovmf_cli_test over Debian's OVMF); firmware
// without TDX metadata is refused with the GUID named.
// [firmware] on [platform.snp]: the file carries the plain OVMF launch's pages and one VMSA per
// vCPU, so measured with native ZERO pages it gives sev-snp-measure's published digests (the
// fixtures of ../shared/testdata/firmware, 1 and 4 vCPUs), page for page; QEMU's IGVM model
// (NORMAL zero pages) differs exactly on the ZERO pages.
#include <gtest/gtest.h>

#include <unistd.h>

#include <vector>

#include "base/testing/matchers.h"
#include "builder/build.h"
#include "builder/manifest.h"
#include "builder/testing/test_images.h"
#include "igvm/file.h"
#include "measure/measure.h"
#include "measure/ovmf_launch.h"
#include "ovmf/ovmf.h"
#include "base/file.h"
#include "ovmf/testing/image_builder.h"
#include "ovmf/testing/shared.h"
#include "ovmf/testing/vectors.h"

namespace igvmkit::builder {
namespace {

using ::igvmkit::testing::HasRule;

// BFV (code, extended) at the top of the image, CFV (vars, added only) below it, HOB and TempMem.
ByteVector smallTdvf() {
  ByteVector bfv_bytes(0x1000);
  for (size_t i = 0; i < bfv_bytes.size(); ++i) {
    bfv_bytes[i] = static_cast<std::byte>(i * 7 + 1);
  }
  return ovmf::testing::ImageBuilder(0x4000)
      .tdxMetadata({{0x1000, 0x3000, 0xfffff000 - 0x2000, 0x3000, ovmf::TdvfSectionType::kBfv, 1},
                    {0x0, 0x1000, 0xffffc000, 0x1000, ovmf::TdvfSectionType::kCfv, 0},
                    {0, 0, 0x809000, 0x2000, ovmf::TdvfSectionType::kTdHob, 0},
                    {0, 0, 0x800000, 0x6000, ovmf::TdvfSectionType::kTempMem, 0}})
      .put(0x1000, bfv_bytes)
      .build();
}

Result<ByteVector> buildWith(const std::string& platforms, ByteVector firmware) {
  testing::MemoryFiles files;
  files.add("/m/fw", std::move(firmware));
  IGVMKIT_ASSIGN_OR_RETURN(
      Manifest m, parseManifest(platforms + "[memory]\nsize = \"64M\"\n[firmware]\nimage = \"fw\"\n",
                                "m.toml", "/m"));
  IGVMKIT_ASSIGN_OR_RETURN(BuildOutput out, build(m, files.reader()));
  return out.igvm;
}

TEST(FirmwareTdx, MrtdIsTheTdvfLaunch) {
  const ByteVector image = smallTdvf();
  for (const char* platforms : {"[platform.tdx]\n", "[platform.native]\n[platform.tdx]\n"}) {
    Result<ByteVector> igvm = buildWith(platforms, image);
    ASSERT_TRUE(igvm.ok()) << igvm.error().describe();
    Result<igvm::File> file = igvm::File::parse(*igvm);
    ASSERT_TRUE(file.ok()) << file.error().describe();
    Result<measure::Measurement> built = measure::measure(*file, {.platform = measure::Platform::kTdx});
    ASSERT_TRUE(built.ok()) << built.error().describe();
    Result<ovmf::Firmware> fw = ovmf::Firmware::parse(image);
    ASSERT_TRUE(fw.ok());
    measure::OvmfLaunchOptions o;
    o.platform = measure::Platform::kTdx;
    Result<measure::Measurement> launch = measure::measureOvmfLaunch(*fw, o);
    ASSERT_TRUE(launch.ok()) << launch.error().describe();
    EXPECT_EQ(hexBytes(built->digest), hexBytes(launch->digest)) << platforms;
    EXPECT_EQ(built->pages_measured, 3u + 1 + 2 + 6) << platforms;
  }
}

TEST(FirmwareTdx, FirmwareWithoutTdxMetadataIsRefused) {
  Result<ByteVector> igvm = buildWith("[platform.tdx]\n", ByteVector(0x2000));
  ASSERT_FALSE(igvm.ok());
  EXPECT_EQ(igvm.error().message,
            "firmware image /m/fw has no TDX metadata (GUID e47a6535-984a-4798-865e-4685a7bf8ec2): "
            "[platform.tdx] needs a TDVF");
}

TEST(FirmwareTdx, CodeWithoutVarsIsRefused) {
  ByteVector image = smallTdvf();
  // Drop the CFV's page in front: the BFV's DataOffset now runs past the image.
  ByteVector code(image.begin() + 0x1000, image.end());
  Result<ByteVector> igvm = buildWith("[platform.tdx]\n", code);
  ASSERT_FALSE(igvm.ok());
  EXPECT_THAT(igvm, HasRule("ovmf.tdx_metadata"));
}

TEST(FirmwareNative, StaysFlatPages) {
  Result<ByteVector> igvm = buildWith("[platform.native]\n", ByteVector(0x2000, std::byte{1}));
  ASSERT_TRUE(igvm.ok()) << igvm.error().describe();
}

// --- SNP -------------------------------------------------------------------------------------

using ovmf::testing::FixtureLaunch;

// sev-snp-measure's published SNP launches over its fixtures (ovmf/testing/vectors.h).
std::vector<FixtureLaunch> snpLaunches() {
  std::vector<FixtureLaunch> out;
  for (const FixtureLaunch& v : ovmf::testing::kSevSnpMeasureFixtureLaunches) {
    if (v.mode == ovmf::testing::LaunchMode::kSnp) {
      out.push_back(v);
    }
  }
  return out;
}

FixtureLaunch snpLaunch(std::string_view name) {
  for (const FixtureLaunch& v : snpLaunches()) {
    if (v.name == name) {
      return v;
    }
  }
  ADD_FAILURE() << "no published launch " << name;
  return {};
}

std::string snpManifest(const FixtureLaunch& c) {
  std::string m = "[platform.snp]\nvcpus = " + std::to_string(c.vcpus) +
                  "\nsev_features = " + std::to_string(c.guest_features) + "\nvmm = \"" +
                  std::string(c.vmm) +
                  "\"\nvcpu_type = \"EPYC-v4\"\n[memory]\nsize = \"64M\"\n[firmware]\n"
                  "image = \"fw\"\n";
  if (c.kernel) {
    m += "kernel = \"kernel\"\ninitrd = \"initrd\"\n";
    if (c.append) {
      m += "cmdline = \"" + std::string(*c.append) + "\"\n";
    }
  }
  return m;
}

Result<ByteVector> buildSnp(const std::string& manifest, ByteVector firmware) {
  testing::MemoryFiles files;
  files.add("/m/fw", std::move(firmware));
  files.add("/m/kernel", {});
  files.add("/m/initrd", {});
  IGVMKIT_ASSIGN_OR_RETURN(Manifest m, parseManifest(manifest, "m.toml", "/m"));
  IGVMKIT_ASSIGN_OR_RETURN(BuildOutput out, build(m, files.reader()));
  return out.igvm;
}

struct Traced {
  std::string digest;
  std::vector<std::string> trace;
};

Result<Traced> measureFile(Bytes igvm, uint32_t vcpus, bool native_zero) {
  IGVMKIT_ASSIGN_OR_RETURN(igvm::File file, igvm::File::parse(igvm));
  Traced t;
  measure::MeasureOptions o{.platform = measure::Platform::kSnp,
                            .host = measure::HostModel::kKvm,
                            .vcpus = vcpus,
                            .native_zero = native_zero,
                            .threads = 1};
  o.trace = [&](const std::string& line) { t.trace.push_back(line); };
  IGVMKIT_ASSIGN_OR_RETURN(measure::Measurement m, measure::measure(file, o));
  t.digest = hexBytes(m.digest);
  return t;
}

Result<Traced> measurePlain(Bytes image, const FixtureLaunch& c) {
  IGVMKIT_ASSIGN_OR_RETURN(ovmf::Firmware fw, ovmf::Firmware::parse(image));
  Traced t;
  measure::OvmfLaunchOptions o;
  o.vcpus = c.vcpus;
  o.guest_features = c.guest_features;
  IGVMKIT_ASSIGN_OR_RETURN(o.vmm, measure::parseVmmType(c.vmm));
  o.vcpu_sig = ovmf::testing::kEpycV4Signature;
  if (c.kernel) {
    IGVMKIT_ASSIGN_OR_RETURN(o.kernel_hashes, measure::sevKernelHashes({}, {}, c.append));
  }
  o.trace = [&](const std::string& line) { t.trace.push_back(line); };
  IGVMKIT_ASSIGN_OR_RETURN(measure::Measurement m, measure::measureOvmfLaunch(fw, o));
  t.digest = hexBytes(m.digest);
  return t;
}

TEST(FirmwareSnp, NativeZeroMeasurementIsThePublishedLaunchDigest) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  for (const FixtureLaunch& c : snpLaunches()) {
    SCOPED_TRACE(c.name);
    Result<ByteVector> image = readFile(dir + "/" + std::string(c.ovmf));
    ASSERT_TRUE(image.ok()) << image.error().describe();
    Result<ByteVector> igvm = buildSnp(snpManifest(c), *image);
    ASSERT_TRUE(igvm.ok()) << igvm.error().describe();
    Result<Traced> wrapped = measureFile(*igvm, c.vcpus, /*native_zero=*/true);
    ASSERT_TRUE(wrapped.ok()) << wrapped.error().describe();
    Result<Traced> plain = measurePlain(*image, c);
    ASSERT_TRUE(plain.ok()) << plain.error().describe();
    ASSERT_EQ(plain->digest, c.digest);
    // Every vCPU count: one VMSA per vCPU in the file (the APs at the SEV-ES reset block's entry).
    EXPECT_EQ(wrapped->digest, c.digest);
    EXPECT_EQ(wrapped->trace, plain->trace);  // the same LAUNCH_UPDATEs, page for page
  }
}

// The file holds one VP context per vCPU, vp_index 0..N-1, all at KVM's VMSA GPA (the only one
// QEMU takes), and passes the strict parser. Measured with another vCPU count it warns as QEMU
// would behave: fewer vCPUs than VMSAs is a launch QEMU refuses, more leaves vCPUs without one.
TEST(FirmwareSnp, OneVpContextPerVcpu) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  const FixtureLaunch c = snpLaunch("snp_4_vcpus_default");
  ASSERT_EQ(c.vcpus, 4u);
  Result<ByteVector> image = readFile(dir + "/" + std::string(c.ovmf));
  ASSERT_TRUE(image.ok());
  Result<ByteVector> igvm = buildSnp(snpManifest(c), *image);
  ASSERT_TRUE(igvm.ok()) << igvm.error().describe();
  Result<igvm::File> file = igvm::File::parse(*igvm);  // strict
  ASSERT_TRUE(file.ok()) << file.error().describe();
  std::vector<uint16_t> vp_indexes;
  for (const igvm::Header& h : file->directives()) {
    if (const auto* vp = h.get<igvm::IGVM_VHS_VP_CONTEXT>()) {
      const uint64_t gpa = vp->gpa;
      EXPECT_EQ(gpa, 0xFFFFFFFFF000u);
      vp_indexes.push_back(vp->vp_index);
    }
  }
  EXPECT_EQ(vp_indexes, (std::vector<uint16_t>{0, 1, 2, 3}));
  for (uint32_t vcpus : {2u, 6u}) {
    measure::MeasureOptions o{.platform = measure::Platform::kSnp, .vcpus = vcpus,
                              .native_zero = true, .threads = 1};
    Result<measure::Measurement> m = measure::measure(*file, o);
    ASSERT_TRUE(m.ok()) << m.error().describe();
    const std::string want = vcpus < 4 ? "qemu refuses a vp context for a vcpu the vm does not have"
                                       : "vcpu 4, 5 has no vmsa of its own";
    bool warned = false;
    for (const std::string& w : m->warnings) {
      warned |= w.find(want) != std::string::npos;
    }
    EXPECT_TRUE(warned) << vcpus;
  }
}

// QEMU's IGVM loader (and igvmkit's kvm host model and loader) measure PAGE_DATA without file
// data as NORMAL pages of zeros: the same pages in the same order, but every ZERO page becomes a
// NORMAL page holding the zero-page hash, so the digest differs from the plain launch.
TEST(FirmwareSnp, QemuIgvmModelMeasuresZeroPagesAsNormal) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  const FixtureLaunch c = snpLaunch("snp_default");
  Result<ByteVector> image = readFile(dir + "/" + std::string(c.ovmf));
  ASSERT_TRUE(image.ok());
  Result<ByteVector> igvm = buildSnp(snpManifest(c), *image);
  ASSERT_TRUE(igvm.ok()) << igvm.error().describe();
  Result<Traced> qemu = measureFile(*igvm, c.vcpus, /*native_zero=*/false);
  Result<Traced> plain = measurePlain(*image, c);
  ASSERT_TRUE(qemu.ok() && plain.ok());
  EXPECT_NE(qemu->digest, c.digest);
  ASSERT_EQ(qemu->trace.size(), plain->trace.size());
  size_t zero_pages = 0;
  for (size_t i = 0; i < plain->trace.size(); ++i) {
    // "<index> <type> gpa=... contents=..." : only the type and contents differ, on ZERO pages.
    const std::string& p = plain->trace[i];
    const std::string& q = qemu->trace[i];
    const std::string gpa_p = p.substr(p.find(" gpa="), p.find(" contents=") - p.find(" gpa="));
    const std::string gpa_q = q.substr(q.find(" gpa="), q.find(" contents=") - q.find(" gpa="));
    EXPECT_EQ(gpa_p, gpa_q) << i;
    if (p.find(" zero ") != std::string::npos) {
      EXPECT_NE(q.find(" normal "), std::string::npos) << q;
      ++zero_pages;
    }
  }
  EXPECT_GT(zero_pages, 0u);
}

TEST(FirmwareSnp, FirmwareWithoutSevMetadataIsRefused) {
  FixtureLaunch c = snpLaunch("snp_without_kernel_default");
  Result<ByteVector> igvm = buildSnp(snpManifest(c), ByteVector(0x2000));
  ASSERT_FALSE(igvm.ok());
  EXPECT_THAT(igvm, HasRule("ovmf.missing"));
  EXPECT_NE(igvm.error().message.find("dc886566-984a-4798-a75e-5585a7bf67cc"), std::string::npos)
      << igvm.error().message;
}

// The APs' VP contexts carry the reset block's AP entry (CS base = eip & 0xffff0000, RIP = eip &
// 0xffff), the BSP's the reset vector; every one RDX = the vCPU signature and the guest features.
// A firmware without the reset block is refused naming its GUID; one whose AP address is 0 starts
// one vCPU only.
TEST(FirmwareSnp, ApEntryFromTheResetBlock) {
  const std::vector<ovmf::SevSection> sections = {
      {0x800000, 0x1000, ovmf::SevSectionType::kSnpSecrets},
      {0x801000, 0x1000, ovmf::SevSectionType::kCpuid}};
  const std::string manifest =
      "[platform.snp]\nvcpus = 3\nvcpu_type = \"EPYC-Milan\"\nsev_features = 0x21\n"
      "[memory]\nsize = \"64M\"\n[firmware]\nimage = \"fw\"\n";
  Result<ByteVector> igvm = buildSnp(
      manifest, ovmf::testing::ImageBuilder(0x2000).resetBlock(0xffffb004).sevMetadata(sections).build());
  ASSERT_TRUE(igvm.ok()) << igvm.error().describe();
  Result<igvm::File> file = igvm::File::parse(*igvm);
  ASSERT_TRUE(file.ok()) << file.error().describe();
  uint32_t vp = 0;
  for (const igvm::Header& h : file->directives()) {
    if (h.get<igvm::IGVM_VHS_VP_CONTEXT>() == nullptr) {
      continue;
    }
    Result<igvm::SevVmsa> v = igvm::vmsaOf(h);
    ASSERT_TRUE(v.ok());
    const uint64_t cs_base = v->cs.base, rip = v->rip, rdx = v->rdx, features = v->sev_features;
    EXPECT_EQ(cs_base, 0xffff0000u) << vp;
    EXPECT_EQ(rip, vp == 0 ? 0xfff0u : 0xb004u) << vp;
    EXPECT_EQ(rdx, 0xA00F11u) << vp;  // EPYC-Milan
    EXPECT_EQ(features, 0x21u) << vp;
    ++vp;
  }
  EXPECT_EQ(vp, 3u);

  Result<ByteVector> no_block =
      buildSnp(manifest, ovmf::testing::ImageBuilder(0x2000).sevMetadata(sections).build());
  ASSERT_FALSE(no_block.ok());
  EXPECT_THAT(no_block, HasRule("ovmf.missing"));
  EXPECT_NE(no_block.error().message.find("00f771de-1a7e-4fcb-890e-68c77e2fb44e"),
            std::string::npos)
      << no_block.error().message;
  Result<ByteVector> ap_zero = buildSnp(
      manifest, ovmf::testing::ImageBuilder(0x2000).resetBlock(0).sevMetadata(sections).build());
  ASSERT_FALSE(ap_zero.ok());
  EXPECT_THAT(ap_zero, HasRule("ovmf_launch.options"));
}

TEST(FirmwareSnp, KernelWithoutHashesSectionIsRefusedAsSevSnpMeasure) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  FixtureLaunch c = snpLaunch("snp_ovmfx64_default");  // no SNP_KERNEL_HASHES
  c.kernel = true;
  c.append = "";
  Result<ByteVector> image = readFile(dir + "/" + std::string(c.ovmf));
  ASSERT_TRUE(image.ok());
  Result<ByteVector> igvm = buildSnp(snpManifest(c), *image);
  ASSERT_FALSE(igvm.ok());
  EXPECT_EQ(igvm.error().message,
            "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section");
}

TEST(FirmwareSnp, QemuNeedsAVcpuType) {
  Result<Manifest> m = parseManifest(
      "[platform.snp]\n[memory]\nsize = \"64M\"\n[firmware]\nimage = \"fw\"\n", "m.toml", "/m");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m, HasRule("manifest.missing_key"));
  Result<Manifest> both = parseManifest(
      "[platform.snp]\nvcpu_type = \"EPYC\"\nvcpu_sig = 0x800f12\n[memory]\nsize = \"64M\"\n"
      "[firmware]\nimage = \"fw\"\n",
      "m.toml", "/m");
  ASSERT_FALSE(both.ok());
  EXPECT_THAT(both, HasRule("manifest.conflict"));
  Result<Manifest> unknown = parseManifest(
      "[platform.snp]\nvcpu_type = \"EPYC-Zen9\"\n[memory]\nsize = \"64M\"\n"
      "[firmware]\nimage = \"fw\"\n",
      "m.toml", "/m");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown, HasRule("manifest.value"));
}

// Debian's OVMF (SEV metadata without kernel hashes) in one file for native, SNP and TDX, as
// testdata/manifests/firmware.toml ships it: SNP as the plain launch (whose Debian digests
// sev-snp-measure confirmed, measure/ovmf_launch_test.cc), TDX as the TDVF launch.
TEST(FirmwareSnp, DebianOvmfForNativeSnpAndTdx) {
  IGVMKIT_DEBIAN_OVMF_OR_SKIP("OVMF_CODE.fd");
  const std::string code = std::string(ovmf::testing::kDebianOvmfDir) + "/OVMF_CODE.fd";
  const std::string vars = std::string(ovmf::testing::kDebianOvmfDir) + "/OVMF_VARS.fd";
  Result<ByteVector> code_bytes = readFile(code);
  Result<ByteVector> vars_bytes = readFile(vars);
  ASSERT_TRUE(code_bytes.ok() && vars_bytes.ok());
  ByteVector unified = *vars_bytes;
  unified.insert(unified.end(), code_bytes->begin(), code_bytes->end());
  testing::MemoryFiles files;
  files.add("/m/code", *code_bytes);
  files.add("/m/vars", *vars_bytes);
  Result<Manifest> m = parseManifest(
      "[platform.native]\n[platform.snp]\nvcpus = 2\nvcpu_type = \"EPYC-Milan\"\n"
      "[platform.tdx]\n[memory]\nsize = \"512M\"\n[firmware]\nimage = \"code\"\n"
      "vars = \"vars\"\n",
      "m.toml", "/m");
  ASSERT_TRUE(m.ok()) << m.error().describe();
  Result<BuildOutput> out = build(*m, files.reader());
  ASSERT_TRUE(out.ok()) << out.error().describe();
  Result<ovmf::Firmware> fw = ovmf::Firmware::parse(unified);
  ASSERT_TRUE(fw.ok());
  measure::OvmfLaunchOptions o;
  o.vcpus = 2;
  o.vcpu_sig = *measure::vcpuSignatureOf("EPYC-Milan");
  Result<measure::Measurement> plain = measure::measureOvmfLaunch(*fw, o);
  ASSERT_TRUE(plain.ok()) << plain.error().describe();
  Result<Traced> wrapped = measureFile(out->igvm, 2, /*native_zero=*/true);
  ASSERT_TRUE(wrapped.ok()) << wrapped.error().describe();
  EXPECT_EQ(wrapped->digest, hexBytes(plain->digest));  // BSP and AP VMSAs as the plain launch's
  o.platform = measure::Platform::kTdx;
  Result<measure::Measurement> tdvf = measure::measureOvmfLaunch(*fw, o);
  ASSERT_TRUE(tdvf.ok());
  Result<igvm::File> file = igvm::File::parse(out->igvm);
  ASSERT_TRUE(file.ok());
  Result<measure::Measurement> mrtd = measure::measure(*file, {.platform = measure::Platform::kTdx});
  ASSERT_TRUE(mrtd.ok());
  EXPECT_EQ(hexBytes(mrtd->digest), hexBytes(tdvf->digest));
}

// Debian's OVMF_CODE.fd wrapped for SNP alone with 1, 2 and 4 vCPUs: measured with native ZERO
// pages, each file gives `measure --ovmf` of the same image and the digest sev-snp-measure printed
// for that launch (ovmf/testing/vectors.h; EPYC-Milan x1, EPYC-Genoa x4 with 0x21, ec2 x2, gce x2,
// EPYC-Turin x1), plus a 2-vCPU QEMU launch nobody recorded, against `measure --ovmf` only.
TEST(FirmwareSnp, DebianOvmfOneTwoFourVcpus) {
  IGVMKIT_DEBIAN_OVMF_OR_SKIP("OVMF_CODE.fd");
  Result<ByteVector> code = readFile(std::string(ovmf::testing::kDebianOvmfDir) + "/OVMF_CODE.fd");
  ASSERT_TRUE(code.ok());
  Result<ovmf::Firmware> fw = ovmf::Firmware::parse(*code);
  ASSERT_TRUE(fw.ok());
  measure::OvmfLaunchOptions sev;
  sev.platform = measure::Platform::kSev;
  Result<measure::Measurement> sha = measure::measureOvmfLaunch(*fw, sev);  // SHA-256 of the image
  ASSERT_TRUE(sha.ok());
  const bool recorded_build = hexBytes(sha->digest) == ovmf::testing::kDebianOvmfCodeSha256;
  std::vector<ovmf::testing::DebianLaunch> launches = {
      {ovmf::testing::LaunchMode::kSnp, 2, "EPYC-Milan", 0x1, "qemu", ""}};
  for (const ovmf::testing::DebianLaunch& v : ovmf::testing::kDebianSevSnpMeasureLaunches) {
    if (v.mode == ovmf::testing::LaunchMode::kSnp) {
      launches.push_back(v);
    }
  }
  for (const ovmf::testing::DebianLaunch& c : launches) {
    SCOPED_TRACE(std::string(c.vmm) + " " + std::string(c.vcpu_type) + " x" +
                 std::to_string(c.vcpus));
    std::string manifest = "[platform.snp]\nvcpus = " + std::to_string(c.vcpus) + "\nvmm = \"" +
                           std::string(c.vmm) + "\"\nsev_features = " +
                           std::to_string(c.guest_features) + "\n";
    if (!c.vcpu_type.empty()) {
      manifest += "vcpu_type = \"" + std::string(c.vcpu_type) + "\"\n";
    }
    manifest += "[memory]\nsize = \"512M\"\n[firmware]\nimage = \"fw\"\n";
    Result<ByteVector> igvm = buildSnp(manifest, *code);
    ASSERT_TRUE(igvm.ok()) << igvm.error().describe();
    Result<Traced> wrapped = measureFile(*igvm, c.vcpus, /*native_zero=*/true);
    ASSERT_TRUE(wrapped.ok()) << wrapped.error().describe();
    measure::OvmfLaunchOptions o;
    o.vcpus = c.vcpus;
    o.guest_features = c.guest_features;
    Result<measure::VmmType> vmm = measure::parseVmmType(c.vmm);
    ASSERT_TRUE(vmm.ok());
    o.vmm = *vmm;
    if (!c.vcpu_type.empty()) {
      o.vcpu_sig = *measure::vcpuSignatureOf(c.vcpu_type);
    }
    bool zero_pages = false;  // does the plain launch issue native ZERO updates?
    o.trace = [&](const std::string& line) {
      zero_pages |= line.find(" zero gpa=") != std::string::npos;
    };
    Result<measure::Measurement> plain = measure::measureOvmfLaunch(*fw, o);
    ASSERT_TRUE(plain.ok()) << plain.error().describe();
    EXPECT_EQ(wrapped->digest, hexBytes(plain->digest));
    if (recorded_build && !c.digest.empty()) {
      EXPECT_EQ(wrapped->digest, c.digest);
    }
    // QEMU's IGVM loader (no native ZERO pages) gives the same digest exactly when the plain
    // launch has no ZERO update: under gce, where SNP_SEC_MEM is UNMEASURED.
    Result<Traced> qemu_igvm = measureFile(*igvm, c.vcpus, /*native_zero=*/false);
    ASSERT_TRUE(qemu_igvm.ok());
    EXPECT_EQ(qemu_igvm->digest == wrapped->digest, !zero_pages);
    EXPECT_EQ(zero_pages, c.vmm != "gce");
  }
}

}  // namespace
}  // namespace igvmkit::builder
