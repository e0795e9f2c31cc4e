// The searches that `igvmkit measure` cannot produce a digest for by a flag: host-kernel VMSA
// variants. The expected digest comes from measure() over a second IGVM file whose VMSA holds
// the variant's bytes (IGVM), or from the OVMF launch's own trace extended by hand with the
// variant's VMSAs (OVMF, fixtures via IGVMKIT_SHARED). Also the ID-block lint and the diff.
#include "diagnose/diagnose.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/file.h"
#include "diagnose/internal/vmsa_variants.h"
#include "igvm/writer.h"
#include "measure/snp.h"
#include "measure/vmsa.h"

namespace igvmkit::diagnose {
namespace {

ByteVector pattern(size_t n, uint32_t seed) {
  ByteVector v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i] = static_cast<std::byte>((i * 131 + seed * 17 + (i >> 8)) & 0xFF);
  }
  return v;
}

// The VMSA a file carries: a reset-like state with sev_features 0x1 and MXCSR 0x1f80 / FCW 0, so
// that every guest-feature set and both FPU variants change it.
igvm::SevVmsa baseVmsa() {
  igvm::SevVmsa v{};
  v.cr0 = 0x31;
  v.rip = 0xFFF0;
  v.sev_features = 0x1;
  v.mxcsr = 0x1F80;
  return v;
}

// An SNP + TDX file with 8 pages, one without data, and one VMSA (vp 0) at KVM's GPA; optionally
// an ID block signed for `id_ld`.
ByteVector makeFile(const igvm::SevVmsa& vmsa, const ByteVector* id_ld = nullptr) {
  igvm::Model model;
  model.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, 0x1, 0, 0));
  model.add(igvm::platformEntry(igvm::PlatformType::kTdx, 0x2, 0, 0));
  for (uint32_t i = 0; i < 8; ++i) {
    model.add(igvm::pageDataEntry(0x100000 + i * 0x1000, 0x3, igvm::Blob(pattern(4096, i))));
  }
  model.add(igvm::pageDataEntry(0x200000, 0x3));
  ByteVector page(sizeof(vmsa));
  std::memcpy(page.data(), &vmsa, sizeof(vmsa));
  model.add(igvm::vpContextEntry(measure::kKvmVmsaGpa, 0x1, 0, igvm::Blob(page)));
  if (id_ld != nullptr) {
    igvm::IGVM_VHS_SNP_ID_BLOCK id{};
    id.compatibility_mask = 1;
    id.version = 1;
    std::memcpy(id.ld, id_ld->data(), sizeof(id.ld));
    model.add(igvm::makeEntry(igvm::kVhtSnpIdBlock, id));
  }
  Result<ByteVector> w = igvm::write(model, {.version = 2});
  EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error().message);
  return w.ok() ? *w : ByteVector{};
}

ByteVector measureFile(const ByteVector& bytes, const measure::MeasureOptions& o) {
  Result<igvm::File> f = igvm::File::parse(bytes);
  EXPECT_TRUE(f.ok());
  Result<measure::Measurement> m = measure::measure(*f, o);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  return m.ok() ? m->digest : ByteVector{};
}

TEST(DiagnoseIgvmTest, EveryVmsaVariantIsExplainedWithItsVcpuCount) {
  const ByteVector base = makeFile(baseVmsa());
  Result<igvm::File> file = igvm::File::parse(base);
  ASSERT_TRUE(file.ok());
  uint32_t vcpus = 1;
  // Edits that give the same bytes as an earlier one are one candidate, named by the first.
  std::vector<ByteVector> seen;
  for (const VmsaEdit& edit : igvmVmsaEdits()) {
    const igvm::SevVmsa edited = editVmsa(baseVmsa(), edit);
    const ByteVector bytes(asBytes(edited).begin(), asBytes(edited).end());
    if (std::find(seen.begin(), seen.end(), bytes) != seen.end()) {
      continue;
    }
    seen.push_back(bytes);
    if (describe(edit).empty()) {
      continue;  // the file as it is: covered by the CLI test
    }
    vcpus = vcpus % 9 + 2;
    const ByteVector digest =
        measureFile(makeFile(editVmsa(baseVmsa(), edit)), {.vcpus = vcpus});
    Result<Diagnosis> d = diagnoseIgvm(*file, digest, {.max_vcpus = 12});
    ASSERT_TRUE(d.ok()) << d.error().message;
    ASSERT_EQ(d->matches.size(), 1u) << describe(edit);
    const Match& m = d->matches[0];
    EXPECT_EQ(m.variant, describe(edit));
    EXPECT_EQ(m.parameters["vcpus"], vcpus) << describe(edit);
    EXPECT_EQ(m.parameters["host"], "kvm");
    EXPECT_EQ(m.platform, measure::Platform::kSnp);
    EXPECT_EQ(m.host, measure::HostModel::kKvm);
    const std::vector<std::string> want = {"--platform", "snp",   "--host",
                                           "kvm",        "--vcpus", std::to_string(vcpus)};
    EXPECT_EQ(m.measure_args, want);
    // The nearest command gives the file's own VMSA, so not the digest: that is what the
    // variant explains.
    EXPECT_NE(measureFile(base, {.vcpus = vcpus}), digest);
  }
}

// The match carries the platform and host as enums; --json's parameters and the measure
// arguments spell them with platformName() / hostModelName().
TEST(DiagnoseIgvmTest, MshvAndTdxMatchesNameTheirPlatformAndHost) {
  const ByteVector base = makeFile(baseVmsa());
  Result<igvm::File> file = igvm::File::parse(base);
  ASSERT_TRUE(file.ok());
  Result<Diagnosis> mshv = diagnoseIgvm(
      *file, measureFile(base, {.host = measure::HostModel::kMshv, .native_zero = true}),
      {.max_vcpus = 2});
  ASSERT_TRUE(mshv.ok()) << mshv.error().message;
  // With one VMSA at KVM's GPA, kvm on 1 vCPU measures the same chain as mshv.
  ASSERT_EQ(mshv->matches.size(), 2u);
  EXPECT_EQ(mshv->matches[0].host, measure::HostModel::kKvm);
  EXPECT_EQ(mshv->matches[0].parameters.dump(),
            R"({"platform":"snp","host":"kvm","vcpus":1,"zero_pages":"zero"})");
  const Match& m = mshv->matches[1];
  EXPECT_EQ(m.platform, measure::Platform::kSnp);
  EXPECT_EQ(m.host, measure::HostModel::kMshv);
  EXPECT_EQ(m.parameters.dump(), R"({"platform":"snp","host":"mshv","zero_pages":"zero"})");
  const std::vector<std::string> want = {"--platform", "snp", "--host", "mshv", "--native-zero"};
  EXPECT_EQ(m.measure_args, want);

  Result<Diagnosis> tdx =
      diagnoseIgvm(*file, measureFile(base, {.platform = measure::Platform::kTdx}), {});
  ASSERT_TRUE(tdx.ok()) << tdx.error().message;
  ASSERT_EQ(tdx->matches.size(), 1u);
  EXPECT_EQ(tdx->matches[0].platform, measure::Platform::kTdx);
  EXPECT_FALSE(tdx->matches[0].host.has_value());
  EXPECT_EQ(tdx->matches[0].parameters.dump(), R"({"platform":"tdx"})");
  EXPECT_EQ(tdx->matches[0].measure_args, (std::vector<std::string>{"--platform", "tdx"}));
}

TEST(DiagnoseIgvmTest, CountsEveryCandidateAndExplainsNothingRandom) {
  const ByteVector base = makeFile(baseVmsa());
  Result<igvm::File> file = igvm::File::parse(base);
  ASSERT_TRUE(file.ok());
  const ByteVector random = pattern(48, 99);
  Result<Diagnosis> d = diagnoseIgvm(*file, random, {.max_vcpus = 10});
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->matches.empty());
  // 2 zero-page modes x (10 vcpus x distinct VMSAs + mshv) + tdx. The distinct VMSAs: the file's
  // sev_features (0x1) is one of the 4 sets, so 4 sev_features values x 3 FPU states (the
  // file's, kvm >= 6.9, zero).
  EXPECT_EQ(igvmVmsaEdits().size(), 15u);
  EXPECT_EQ(d->candidates, 2u * (10u * 12u + 1u) + 1u);
  Result<Diagnosis> bad = diagnoseIgvm(*file, pattern(47, 1), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Code::kUsage);
}

TEST(IdBlockLintTest, NamesTheVcpuCountAnIdBlockWasSignedFor) {
  const ByteVector unsigned_file = makeFile(baseVmsa());
  const ByteVector ld = measureFile(unsigned_file, {.vcpus = 1});
  const ByteVector bytes = makeFile(baseVmsa(), &ld);
  Result<igvm::File> file = igvm::File::parse(bytes);
  ASSERT_TRUE(file.ok()) << file.error().message;
  Result<std::optional<std::string>> same = idBlockLaunchIssue(*file, measure::MeasureOptions{.vcpus = 1});
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->has_value());
  Result<std::optional<std::string>> two = idBlockLaunchIssue(*file, measure::MeasureOptions{.vcpus = 2});
  ASSERT_TRUE(two.ok());
  ASSERT_TRUE(two->has_value());
  EXPECT_NE((*two)->find("snp kvm, 1 vcpu (the vcpu count differs)"), std::string::npos) << **two;
  EXPECT_NE((*two)->find("planned launch (snp kvm, 2 vcpus)"), std::string::npos) << **two;
  Result<std::optional<std::string>> zero =
      idBlockLaunchIssue(*file, measure::MeasureOptions{.vcpus = 1, .native_zero = true});
  ASSERT_TRUE(zero.ok());
  ASSERT_TRUE(zero->has_value());
  EXPECT_NE((*zero)->find("(the zero-page mode differs)"), std::string::npos) << **zero;
  Result<std::optional<std::string>> none = idBlockLaunchIssue(
      *igvm::File::parse(unsigned_file), measure::MeasureOptions{.vcpus = 2});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  // Without a plan (igvmkit check): silent while some launch produces the block's digest.
  Result<std::optional<std::string>> unplanned = idBlockLaunchIssue(*file, std::nullopt);
  ASSERT_TRUE(unplanned.ok());
  EXPECT_FALSE(unplanned->has_value());
  const ByteVector other_ld = pattern(48, 5);
  const ByteVector foreign = makeFile(baseVmsa(), &other_ld);
  Result<std::optional<std::string>> nothing =
      idBlockLaunchIssue(*igvm::File::parse(foreign), std::nullopt);
  ASSERT_TRUE(nothing.ok());
  ASSERT_TRUE(nothing->has_value());
  EXPECT_NE((*nothing)->find("which no launch of this file produces"), std::string::npos);
}

TEST(DiffTest, FirstDifferenceAndCountsOnlyInEach) {
  const std::string z = "zero";
  std::vector<LaunchOp> a = {{0x1000, "normal", "aa"}, {0x2000, "normal", "bb"},
                             {0x3000, "zero", z}, {0xFFFFFFFFF000, "vmsa", "cc"}};
  std::vector<LaunchOp> b = {{0x1000, "normal", "aa"}, {0x2000, "normal", "b2"},
                             {0x3000, "zero", z}, {0xFFFFFFFFF000, "vmsa", "cc"},
                             {0xFFFFFFFFF000, "vmsa", "cc"}};
  const LaunchDiff d = diffLaunches(a, b);
  ASSERT_TRUE(d.first_difference.has_value());
  EXPECT_EQ(*d.first_difference, 1u);
  EXPECT_EQ(d.first->contents, "bb");
  EXPECT_EQ(d.second->contents, "b2");
  EXPECT_EQ(d.only_in_first, 1u);
  EXPECT_EQ(d.only_in_second, 2u);
  EXPECT_FALSE(diffLaunches(a, a).first_difference.has_value());
}

// --- OVMF: FPU variants of real firmware (sev-snp-measure's fixtures) ---

std::optional<std::string> shared() {
  const char* s = std::getenv("IGVMKIT_SHARED");
  if (s == nullptr || *s == '\0') {
    return std::nullopt;
  }
  return std::string(s) + "/testdata/firmware/";
}

// The launch digest of `o` with every VMSA replaced: the launch's own trace up to its first VMSA,
// then `bsp` and `ap` (vCPUs 1..) added page by page.
ByteVector withVmsas(const ovmf::Firmware& fw, measure::OvmfLaunchOptions o,
                     const igvm::SevVmsa& bsp, const igvm::SevVmsa& ap) {
  measure::Sha384Digest prefix{};
  bool in_vmsas = false;
  o.trace = [&](const std::string& line) {
    Result<measure::SnpTraceRecord> r = measure::parseSnpTrace(line);
    ASSERT_TRUE(r.ok());
    in_vmsas = in_vmsas || r->type == measure::SnpPageType::kVmsa;
    if (!in_vmsas) {
      prefix = r->digest;
    }
  };
  EXPECT_TRUE(measure::measureOvmfLaunch(fw, o).ok());
  measure::SnpLaunchDigest ld(prefix);
  for (uint32_t i = 0; i < o.vcpus; ++i) {
    EXPECT_TRUE(ld.addPage(measure::kKvmVmsaGpa, measure::SnpPageType::kVmsa,
                           asBytes(i == 0 ? bsp : ap))
                    .ok());
  }
  return ByteVector(ld.digest().begin(), ld.digest().end());
}

TEST(DiagnoseOvmfTest, PreKernel69FpuStateIsExplained) {
  const std::optional<std::string> dir = shared();
  if (!dir) {
    GTEST_SKIP() << "IGVMKIT_SHARED is unset: sev-snp-measure's OVMF fixture not available";
  }
  Result<ByteVector> bytes = readFile(*dir + "ovmf_AmdSev_suffix.bin");
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  Result<ovmf::Firmware> fw = ovmf::Firmware::parse(*bytes);
  ASSERT_TRUE(fw.ok());
  measure::OvmfLaunchOptions o;
  o.vcpus = 3;
  o.guest_features = 0x21;
  o.vcpu_sig = *measure::vcpuSignatureOf("EPYC-Milan");
  const VmsaEdit zero{.sev_features = std::nullopt, .fpu = kFpuZero};
  const ByteVector digest = withVmsas(
      *fw, o, editVmsa(measure::ovmfResetVmsa(0xFFFFFFF0, 0x21, o.vcpu_sig, o.vmm), zero),
      editVmsa(measure::ovmfResetVmsa(*fw->sevEsResetEip(), 0x21, o.vcpu_sig, o.vmm), zero));
  OvmfImage image;
  image.firmware = &*fw;
  Result<Diagnosis> d = diagnoseOvmf(image, digest, {.max_vcpus = 8});
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->matches.size(), 1u);
  EXPECT_EQ(d->matches[0].variant, describe(zero));
  EXPECT_EQ(d->matches[0].parameters["vcpus"], 3);
  EXPECT_EQ(d->matches[0].parameters["guest_features"], "0x21");
  EXPECT_EQ(d->matches[0].parameters["vcpu_type"], "EPYC-Milan");
}

TEST(DiagnoseOvmfTest, SvsmWithKernel69FcwIsExplained) {
  const std::optional<std::string> dir = shared();
  if (!dir) {
    GTEST_SKIP() << "IGVMKIT_SHARED is unset: the COCONUT-SVSM fixtures are not available";
  }
  Result<ByteVector> ovmf_bytes = readFile(*dir + "svsm_ovmf.fd");
  Result<ByteVector> svsm_bytes = readFile(*dir + "svsm.bin");
  ASSERT_TRUE(ovmf_bytes.ok() && svsm_bytes.ok());
  Result<ovmf::Firmware> fw = ovmf::Firmware::parse(*ovmf_bytes);
  ASSERT_TRUE(fw.ok());
  measure::OvmfLaunchOptions o;
  o.vcpus = 4;
  o.vcpu_sig = *measure::vcpuSignatureOf("EPYC-v4");
  o.svsm = measure::SvsmLaunch{*svsm_bytes, 540672};
  Result<measure::Measurement> m = measure::measureOvmfLaunch(*fw, o);
  ASSERT_TRUE(m.ok());
  const uint32_t eip = static_cast<uint32_t>(
      std::stoull(m->assumptions["svsm_entry"].get<std::string>(), nullptr, 16));
  const VmsaEdit fcw{.sev_features = std::nullopt, .fpu = kFpuKvm69};
  const igvm::SevVmsa v = editVmsa(measure::svsmResetVmsa(eip, o.vcpu_sig), fcw);
  const ByteVector digest = withVmsas(*fw, o, v, v);
  OvmfImage image;
  image.firmware = &*fw;
  image.svsm = o.svsm;
  Result<Diagnosis> d = diagnoseOvmf(image, digest, {.max_vcpus = 8});
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->matches.size(), 1u);
  EXPECT_EQ(d->matches[0].variant, describe(fcw));
  EXPECT_TRUE(d->matches[0].svsm);
  EXPECT_EQ(d->matches[0].parameters["vcpus"], 4);
}

}  // namespace
}  // namespace igvmkit::diagnose
