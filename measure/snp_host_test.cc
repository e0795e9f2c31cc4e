#include "base/testing/matchers.h"
#include "measure/snp_host.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace igvmkit::measure {
namespace {

using ::igvmkit::testing::HasRule;

const std::byte kData[] = {std::byte{0x00}, std::byte{0x05}};

// OpenVMM igvmfilegen's file_loader imports (measurement.md §5), page 20 shared.
void addOpenVmmImports(SnpHostMeasurement& m) {
  ASSERT_TRUE(m.pageData({.gpa = 0, .data = Bytes(kData)}).ok());
  for (uint64_t p = 1; p < 5; ++p) {
    ASSERT_TRUE(m.pageData({.gpa = p * 4096}).ok());
  }
  for (uint64_t p = 5; p < 10; ++p) {
    ASSERT_TRUE(
        m.pageData({.gpa = p * 4096, .unmeasured = true, .data = p == 5 ? Bytes(kData) : Bytes()})
            .ok());
  }
  ASSERT_TRUE(m.pageData({.gpa = 10 * 4096, .data = Bytes(kData)}).ok());
  ASSERT_TRUE(m.pageData({.gpa = 20 * 4096, .shared = true}).ok());
}

// measurement.md §5: the published SNP value, computed by microsoft/igvm = the MSHV host model.
TEST(SnpHost, OpenVmmVectorOnMshv) {
  SnpHostMeasurement m(HostModel::kMshv, 1);
  addOpenVmmImports(m);
  Result<SnpHostResult> r = m.finish();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(hexDigest(r->digest),
            "889a19386c82e2219bded3e92a764e8c00c29b966d04a662bca6cfdfec647b9051995653390783846557"
            "913263d71c4f");
  EXPECT_EQ(r->pages_measured, 11u);
  EXPECT_TRUE(r->warnings.empty());
}

// KVM measures the shared page too (as a NORMAL zero page). Derived independently by
// testdata/derive_vectors.py (Python hashlib, run once).
TEST(SnpHost, OpenVmmImportsOnKvmMeasureTheSharedPage) {
  SnpHostMeasurement m(HostModel::kKvm, 1);
  addOpenVmmImports(m);
  Result<SnpHostResult> r = m.finish();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(hexDigest(r->digest),
            "e9836d044e880fbfba8e5fae0e9ca19c9b507cebfcf868b427e7588ec23de97e800027b01bcc396ec4ce"
            "8f131bd5b991");
  EXPECT_EQ(r->pages_measured, 12u);
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0].substr(0, 27), "the file has no snp vmsa; k");
}

std::vector<std::byte> vmsaWithRip(uint64_t rip) {
  std::vector<std::byte> v(4096);
  uint64_t cr0 = 0x31, features = 1;
  std::memcpy(v.data() + 0x158, &cr0, 8);
  std::memcpy(v.data() + 0x178, &rip, 8);
  std::memcpy(v.data() + 0x3B0, &features, 8);
  return v;
}

// A file with every SNP-relevant directive kind, VMSAs in the middle (see derive_vectors.py).
struct Scenario {
  std::vector<std::byte> v0 = vmsaWithRip(0xfff0);
  std::vector<std::byte> v1 = vmsaWithRip(0x1000);
  std::vector<std::byte> cpuid = std::vector<std::byte>(16, std::byte{'x'});

  void run(SnpHostMeasurement& m) {
    ASSERT_TRUE(m.pageData({.gpa = 0, .data = toBytes("boot")}).ok());
    // The data type wins over the unmeasured flag.
    ASSERT_TRUE(
        m.pageData({.gpa = 0x1000, .kind = SnpDataKind::kSecrets, .unmeasured = true}).ok());
    ASSERT_TRUE(
        m.pageData({.gpa = 0x2000, .kind = SnpDataKind::kCpuid, .data = Bytes(cpuid)}).ok());
    ASSERT_TRUE(m.vpContext(0, 0x803000, Bytes(v0)).ok());
    ASSERT_TRUE(m.pageData({.gpa = 0x3000, .shared = true}).ok());
    ASSERT_TRUE(m.parameterInsert(0x14000, 0x2000).ok());
    ASSERT_TRUE(m.vpContext(1, 0x804000, Bytes(v1)).ok());
    ASSERT_TRUE(m.pageData({.gpa = 0x4000, .unmeasured = true, .data = toBytes("zz")}).ok());
  }
};

TEST(SnpHost, KvmMeasuresVmsasLastPerVcpu) {
  Scenario s;
  std::vector<std::string> trace;
  SnpHostMeasurement m(HostModel::kKvm, 3, {.threads = 2, .batch_pages = 3});
  m.setTrace([&trace](const SnpTraceRecord& r) { trace.push_back(formatSnpTrace(r)); });
  s.run(m);
  Result<SnpHostResult> r = m.finish();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(hexDigest(r->digest),
            "529905f434cda1a29ab56b87741f44a4a409fa461e41cc84733e6a65b716ccb458069cc77a4a982cdd2f"
            "c1f7bd9e4d49");
  EXPECT_EQ(r->pages_measured, 10u);
  ASSERT_EQ(trace.size(), 10u);
  EXPECT_EQ(trace[7].substr(0, 27), "7 vmsa gpa=0xfffffffff000 c");
  EXPECT_EQ(trace[9].substr(0, 27), "9 vmsa gpa=0xfffffffff000 c");
  ASSERT_EQ(r->warnings.size(), 4u);
  EXPECT_EQ(r->warnings[0],
            "page data at gpa 0x3000 follows a vmsa in the file, but kvm measures "
            "vmsas last");
  // VMSAs for vp 0 and 1 and three vCPUs: vCPU 2 borrows vp 0's, where QEMU would apply none.
  EXPECT_EQ(r->warnings[1],
            "vcpu 2 has no vmsa of its own and is measured with vp_index 0's, but qemu applies no "
            "vp context to it (kvm measures its own reset state)");
  EXPECT_EQ(r->warnings[2],
            "vp_index 0: vmsa gpa 0x803000 is not 0xfffffffff000, where kvm measures it");
  EXPECT_EQ(r->warnings[3],
            "vp_index 1: vmsa gpa 0x804000 is not 0xfffffffff000, where kvm measures it");
}

TEST(SnpHost, KvmWithOneVcpuIgnoresOtherVmsas) {
  Scenario s;
  SnpHostMeasurement m(HostModel::kKvm, 1);
  s.run(m);
  Result<SnpHostResult> r = m.finish();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(hexDigest(r->digest),
            "e5316b5b809da5c9a7e4c1bfa436fa06d9776e4bf52b95538f3ce8dbba1e536b64155aad2dc329e801bc"
            "41536d4e3f07");
  EXPECT_EQ(r->pages_measured, 8u);
  bool unused_warned = false;
  for (const std::string& w : r->warnings) {
    unused_warned |= w ==
                     "the vmsa for vp_index 1 is not measured with 1 vcpus, and qemu refuses a vp "
                     "context for a vcpu the vm does not have: this launch needs at least 2 vcpus";
  }
  EXPECT_TRUE(unused_warned);
}

TEST(SnpHost, MshvMeasuresVmsasInPlaceAndSkipsSharedPages) {
  Scenario s;
  for (uint32_t vcpus : {1u, 8u}) {  // the vCPU count does not matter on MSHV
    SnpHostMeasurement m(HostModel::kMshv, vcpus);
    s.run(m);
    Result<SnpHostResult> r = m.finish();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(hexDigest(r->digest),
              "36133ad1578d60e3195717e8922f065c4e57786f3bbb5ab6f9fd55a955880b3ef671a6d8d479f62f76"
              "102a5b8a96eb48");
    EXPECT_EQ(r->pages_measured, 8u);
    EXPECT_TRUE(r->warnings.empty());
  }
}

TEST(SnpHost, Errors) {
  SnpHostMeasurement m(HostModel::kKvm, 1);
  EXPECT_THAT(m.parameterInsert(0x14000, 0x1001), HasRule("snp.parameter_area_size"));
  EXPECT_THAT(m.parameterInsert(0xFFFFFFFFFFFFF000, 0x2000), HasRule("snp.parameter_area_size"));
  std::vector<std::byte> short_vmsa(1648);
  EXPECT_THAT(m.vpContext(0, kKvmVmsaGpa, Bytes(short_vmsa)), HasRule("vmsa.size"));
  SnpHostMeasurement none(HostModel::kKvm, 0);
  EXPECT_EQ(none.finish().error().code, Code::kUsage);
  SnpHostMeasurement missing(HostModel::kKvm, 2);
  std::vector<std::byte> v = vmsaWithRip(0);
  ASSERT_TRUE(missing.vpContext(1, kKvmVmsaGpa, Bytes(v)).ok());
  EXPECT_THAT(missing.finish(), HasRule("snp.kvm_vmsa_missing"));
  EXPECT_STREQ(hostModelName(HostModel::kMshv), "mshv");
}

}  // namespace
}  // namespace igvmkit::measure
