// The loader's key invariant: what the (simulated) hardware measures when a backend launches
// plan(file) equals what measure/ predicts for the same file, for every test image, both SNP host
// models (kvm-snp <-> --host kvm with the vCPU count, mshv-snp <-> --host mshv) and TDX MRTD.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "base/testing/matchers.h"
#include "igvm/file.h"
#include "loader/plan.h"
#include "loader/testing/igvm_images.h"
#include "loader/testing/snp_psp.h"
#include "loader/testing/tdx_module.h"
#include "measure/measure.h"

namespace igvmkit::loader {
namespace {

using ::igvmkit::testing::HasRule;

std::string hexOf(const std::array<uint8_t, 48>& d) {
  return hexBytes(Bytes(reinterpret_cast<const std::byte*>(d.data()), d.size()));
}

VmConfig config(uint32_t vcpus) {
  VmConfig c;
  c.memory_size = testing::kTestMemory;
  c.vcpus = vcpus;
  c.cmdline = "console=ttyS0";
  return c;
}

struct Case {
  BackendKind backend;
  measure::Platform platform;
  measure::HostModel host;
};

constexpr Case kCases[] = {
    {BackendKind::kKvmSnp, measure::Platform::kSnp, measure::HostModel::kKvm},
    {BackendKind::kMshvSnp, measure::Platform::kSnp, measure::HostModel::kMshv},
    {BackendKind::kKvmTdx, measure::Platform::kTdx, measure::HostModel::kKvm},
};

// Checks one parsed file on every case; `vcpu_counts` for kvm-snp (the others do not depend on
// it but are run with each count too). Counts the comparisons that ran in `compared`.
void checkFile(const std::string& name, const igvm::File& file,
               std::initializer_list<uint32_t> vcpu_counts, int& compared, int& refused) {
  for (const Case& c : kCases) {
    for (uint32_t vcpus : vcpu_counts) {
      SCOPED_TRACE(name + " on " + std::string(backendName(c.backend)) + " with " +
                   std::to_string(vcpus) + " vcpus");
      Result<Plan> p = plan(file, c.backend, config(vcpus));
      measure::MeasureOptions opts;
      opts.platform = c.platform;
      opts.host = c.host;
      opts.vcpus = vcpus;
      opts.threads = 1;
      Result<measure::Measurement> m = measure::measure(file, opts);
      if (!p.ok()) {
        // The loader may refuse what measure/ can still compute (e.g. kvm-snp and VMSAs away
        // from 0xFFFFFFFFF000, or mshv-snp and fewer vCPUs than the file has VMSAs, where the
        // launch could not reproduce the prediction); it must never accept what measure/ refuses.
        EXPECT_THAT(p, ::testing::AnyOf(HasRule("kvm_snp.vmsa_gpa"), HasRule("kvm_snp.vp_count"),
                                        HasRule("mshv_snp.vp_count")));
        ++refused;
        continue;
      }
      ASSERT_TRUE(m.ok()) << m.error().describe();
      std::string predicted = hexBytes(m->digest);
      if (c.platform == measure::Platform::kSnp) {
        auto launched = testing::simulateSnpLaunch(*p);
        ASSERT_TRUE(launched.ok()) << launched.error().describe();
        EXPECT_EQ(hexOf(*launched), predicted);
      } else {
        auto mrtd = testing::simulateTdxLaunch(*p);
        ASSERT_TRUE(mrtd.ok()) << mrtd.error().describe();
        EXPECT_EQ(hexOf(*mrtd), predicted);
      }
      ++compared;
    }
  }
}

TEST(Invariant, SimulatedLaunchOfThePlanEqualsTheMeasurement) {
  int compared = 0;
  int refused = 0;
  for (const testing::ImageSpec& spec : testing::imageSpecs()) {
    auto bytes = testing::makeImage(spec);
    ASSERT_TRUE(bytes.ok()) << spec.name << ": " << bytes.error().describe();
    auto file = igvm::File::parse(*bytes);
    ASSERT_TRUE(file.ok()) << spec.name;
    checkFile(spec.name, *file, {1, 2, 4}, compared, refused);
  }
  // 9 images x 3 cases x 3 vCPU counts; refused: vmsa_per_vp (3 VMSAs) on kvm-snp (3 counts) and
  // on mshv-snp with 1 and 2 vCPUs.
  EXPECT_EQ(refused, 5);
  EXPECT_EQ(compared, 9 * 3 * 3 - 5);
}

// The digests differ between the two SNP host models for a file with a SHARED page (kvm measures
// it, mshv does not): the comparison above is not vacuous.
TEST(Invariant, HostModelsDisagreeOnSharedPages) {
  auto bytes = testing::makeImage({.name = "s", .shared = true});
  ASSERT_TRUE(bytes.ok());
  auto file = igvm::File::parse(*bytes);
  ASSERT_TRUE(file.ok());
  auto kvm = plan(*file, BackendKind::kKvmSnp, config(1));
  auto mshv = plan(*file, BackendKind::kMshvSnp, config(1));
  ASSERT_TRUE(kvm.ok() && mshv.ok());
  auto a = testing::simulateSnpLaunch(*kvm);
  auto b = testing::simulateSnpLaunch(*mshv);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(hexOf(*a), hexOf(*b));
}

}  // namespace
}  // namespace igvmkit::loader
