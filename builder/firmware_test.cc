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

namespace igvmkit::builder {
namespace {

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
  EXPECT_EQ(igvm.error().rule, "ovmf.tdx_metadata");
}

TEST(FirmwareNative, StaysFlatPages) {
  Result<ByteVector> igvm = buildWith("[platform.native]\n", ByteVector(0x2000, std::byte{1}));
  ASSERT_TRUE(igvm.ok()) << igvm.error().describe();
}


// --- SNP -------------------------------------------------------------------------------------

struct SnpCase {
  const char* name;
  const char* ovmf;
  uint32_t vcpus;
  uint64_t guest_features;
  const char* vmm;
  std::optional<std::string> append;  // with an (empty) kernel and initrd; nullopt = no kernel
  const char* digest;                 // sev-snp-measure tests/test_guest.py (MANIFEST.md)
};

const SnpCase kSnpCases[] = {
    {"snp_default", "ovmf_AmdSev_suffix.bin", 1, 0x21, "qemu", "console=ttyS0 loglevel=7",
     "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977"},
    {"snp_guest_feature_snp_only", "ovmf_AmdSev_suffix.bin", 1, 0x1, "qemu",
     "console=ttyS0 loglevel=7",
     "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa"},
    {"snp_ec2_default", "ovmf_AmdSev_suffix.bin", 1, 0x21, "ec2", "",
     "0ce9ccc06bab55eebe8abc234f3df6514883977a68a591b71052498ab52b2f1aa415db338033946ef93aa8278c0d67fb"},
    {"snp_ec2_feature_snp_only", "ovmf_AmdSev_suffix.bin", 1, 0x1, "ec2", "",
     "0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056"},
    {"snp_gce_default", "ovmf_AmdSev_suffix.bin", 1, 0x1, "gce", "",
     "5da7106cf14cf46b1725ebab123eb9e53bd46a1e9f400cd0c08e7827b04b688ea8b4e403c8404efed4397ea5d5d0722e"},
    {"snp_gce_4_vcpus", "ovmf_AmdSev_suffix.bin", 4, 0x1, "gce", "",
     "5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d"},
    {"snp_without_kernel_default", "ovmf_AmdSev_suffix.bin", 1, 0x21, "qemu", std::nullopt,
     "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b"},
    {"snp_without_kernel_feature_snp_only", "ovmf_AmdSev_suffix.bin", 1, 0x1, "qemu", std::nullopt,
     "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d"},
    {"snp_4_vcpus_default", "ovmf_AmdSev_suffix.bin", 4, 0x21, "qemu", "",
     "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942"},
    {"snp_4_vcpus_feature_snp_only", "ovmf_AmdSev_suffix.bin", 4, 0x1, "qemu", "",
     "5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5"},
    {"snp_ovmfx64_default", "ovmf_OvmfX64_suffix.bin", 1, 0x21, "qemu", std::nullopt,
     "28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a64c385"},
    {"snp_ovmfx64_feature_snp_only", "ovmf_OvmfX64_suffix.bin", 1, 0x1, "qemu", std::nullopt,
     "da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005"},
};

std::string snpManifest(const SnpCase& c) {
  std::string m = "[platform.snp]\nvcpus = " + std::to_string(c.vcpus) +
                  "\nsev_features = " + std::to_string(c.guest_features) + "\nvmm = \"" + c.vmm +
                  "\"\nvcpu_type = \"EPYC-v4\"\n[memory]\nsize = \"64M\"\n[firmware]\n"
                  "image = \"fw\"\n";
  if (c.append) {
    m += "kernel = \"kernel\"\ninitrd = \"initrd\"\ncmdline = \"" + *c.append + "\"\n";
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

Result<Traced> measurePlain(Bytes image, const SnpCase& c) {
  IGVMKIT_ASSIGN_OR_RETURN(ovmf::Firmware fw, ovmf::Firmware::parse(image));
  Traced t;
  measure::OvmfLaunchOptions o;
  o.vcpus = c.vcpus;
  o.guest_features = c.guest_features;
  IGVMKIT_ASSIGN_OR_RETURN(o.vmm, measure::parseVmmType(c.vmm));
  IGVMKIT_ASSIGN_OR_RETURN(o.vcpu_sig, measure::vcpuSignatureOf("EPYC-v4"));
  if (c.append) {
    IGVMKIT_ASSIGN_OR_RETURN(o.kernel_hashes, measure::sevKernelHashes({}, {}, c.append));
  }
  o.trace = [&](const std::string& line) { t.trace.push_back(line); };
  IGVMKIT_ASSIGN_OR_RETURN(measure::Measurement m, measure::measureOvmfLaunch(fw, o));
  t.digest = hexBytes(m.digest);
  return t;
}

TEST(FirmwareSnp, NativeZeroMeasurementIsThePublishedLaunchDigest) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  for (const SnpCase& c : kSnpCases) {
    SCOPED_TRACE(c.name);
    Result<ByteVector> image = readFile(dir + "/" + c.ovmf);
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
  const SnpCase& c = kSnpCases[8];  // snp_4_vcpus_default
  ASSERT_EQ(c.vcpus, 4u);
  Result<ByteVector> image = readFile(dir + "/" + c.ovmf);
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
  const SnpCase& c = kSnpCases[0];
  Result<ByteVector> image = readFile(dir + "/" + c.ovmf);
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
  SnpCase c = kSnpCases[6];
  c.append = std::nullopt;
  Result<ByteVector> igvm = buildSnp(snpManifest(c), ByteVector(0x2000));
  ASSERT_FALSE(igvm.ok());
  EXPECT_EQ(igvm.error().rule, "ovmf.missing");
  EXPECT_NE(igvm.error().message.find("dc886566-984a-4798-a75e-5585a7bf67cc"), std::string::npos)
      << igvm.error().message;
}

TEST(FirmwareSnp, KernelWithoutHashesSectionIsRefusedAsSevSnpMeasure) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  SnpCase c = kSnpCases[10];  // OvmfX64: no SNP_KERNEL_HASHES
  c.append = "";
  Result<ByteVector> image = readFile(dir + "/" + c.ovmf);
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
  EXPECT_EQ(m.error().rule, "manifest.missing_key");
  Result<Manifest> both = parseManifest(
      "[platform.snp]\nvcpu_type = \"EPYC\"\nvcpu_sig = 0x800f12\n[memory]\nsize = \"64M\"\n"
      "[firmware]\nimage = \"fw\"\n",
      "m.toml", "/m");
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().rule, "manifest.conflict");
  Result<Manifest> unknown = parseManifest(
      "[platform.snp]\nvcpu_type = \"EPYC-Zen9\"\n[memory]\nsize = \"64M\"\n"
      "[firmware]\nimage = \"fw\"\n",
      "m.toml", "/m");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().rule, "manifest.value");
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
// pages, each file gives `measure --ovmf` of the same image with that many vCPUs; where
// sev-snp-measure 8f2b337e printed the digest here (measure/ovmf_launch_test.cc), that value.
TEST(FirmwareSnp, DebianOvmfOneTwoFourVcpus) {
  IGVMKIT_DEBIAN_OVMF_OR_SKIP("OVMF_CODE.fd");
  Result<ByteVector> code = readFile(std::string(ovmf::testing::kDebianOvmfDir) + "/OVMF_CODE.fd");
  ASSERT_TRUE(code.ok());
  Result<ovmf::Firmware> fw = ovmf::Firmware::parse(*code);
  ASSERT_TRUE(fw.ok());
  struct DebianCase {
    uint32_t vcpus;
    const char* vcpu_type;
    uint64_t guest_features;
    const char* published;  // sev-snp-measure's digest, or "" where none was taken
  };
  const DebianCase cases[] = {
      {1, "EPYC-Milan", 0x1,
       "836d70ef6fb294660c2227b0f535c07f814a965442bccfa75a240f478a9f4abd1a63dd0c796f3a75d7f16b02b1d3b8ee"},
      {2, "EPYC-Milan", 0x1, ""},
      {4, "EPYC-Genoa", 0x21,
       "a9eb0f8b08c7c5cba6c90e3b37b78b3a44ceaad250a00ccfc066e6a4871f18688e29134279260c731267b28a268d33ca"},
  };
  for (const DebianCase& c : cases) {
    SCOPED_TRACE(c.vcpus);
    const std::string manifest = "[platform.snp]\nvcpus = " + std::to_string(c.vcpus) +
                                 "\nvcpu_type = \"" + c.vcpu_type +
                                 "\"\nsev_features = " + std::to_string(c.guest_features) +
                                 "\n[memory]\nsize = \"512M\"\n[firmware]\nimage = \"fw\"\n";
    Result<ByteVector> igvm = buildSnp(manifest, *code);
    ASSERT_TRUE(igvm.ok()) << igvm.error().describe();
    Result<Traced> wrapped = measureFile(*igvm, c.vcpus, /*native_zero=*/true);
    ASSERT_TRUE(wrapped.ok()) << wrapped.error().describe();
    measure::OvmfLaunchOptions o;
    o.vcpus = c.vcpus;
    o.guest_features = c.guest_features;
    o.vcpu_sig = *measure::vcpuSignatureOf(c.vcpu_type);
    Result<measure::Measurement> plain = measure::measureOvmfLaunch(*fw, o);
    ASSERT_TRUE(plain.ok()) << plain.error().describe();
    EXPECT_EQ(wrapped->digest, hexBytes(plain->digest));
    if (*c.published != '\0') {
      EXPECT_EQ(wrapped->digest, c.published);
    }
  }
}

}  // namespace
}  // namespace igvmkit::builder
