// loader/testing/tdx_module.h: a simulated TDX module that computes MRTD from the kvm-tdx
// backend's calls as a FakeDevice sees them (measurement.md §3.1): one running SHA-384 over
// 128-byte blocks. KVM_TDX_INIT_VM starts it; each page of KVM_TDX_INIT_MEM_REGION is a
// TDH.MEM.PAGE.ADD block, followed, with KVM_TDX_MEASURE_MEMORY_REGION, by 16 TDH.MR.EXTEND
// blocks each with its 256 source bytes; KVM_TDX_FINALIZE_VM finishes it.
//
//   hv::testing::FakeDevice dev;
//   testing::TdxModule tdx(dev);
//   ASSERT_TRUE(launch(*makeBackend(BackendKind::kKvmTdx, dev), plan).ok());
//   EXPECT_EQ(hexBytes(*tdx.mrtd()), expected);
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "base/status.h"
#include "loader/plan.h"
#include "hv/testing/fake_device.h"

namespace igvmkit::loader::testing {

// Launches a kvm-tdx `plan` on a fresh FakeDevice watched by a TdxModule and returns MRTD.
Result<std::array<uint8_t, 48>> simulateTdxLaunch(const Plan& plan);

class TdxModule {
 public:
  explicit TdxModule(hv::testing::FakeDevice& device);
  ~TdxModule();

  // Set once FINALIZE_VM has run.
  const std::optional<std::array<uint8_t, 48>>& mrtd() const { return mrtd_; }
  uint64_t pagesAdded() const { return pages_added_; }
  uint64_t chunksExtended() const { return chunks_extended_; }

  // The module's primitives, also usable directly.
  void start();
  void pageAdd(uint64_t gpa);
  void mrExtend(uint64_t gpa, const std::byte* chunk256);
  void finalize();

 private:
  void onCall(const hv::testing::FakeCall& call);
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  std::optional<std::array<uint8_t, 48>> mrtd_;
  uint64_t pages_added_ = 0, chunks_extended_ = 0;
};

}  // namespace igvmkit::loader::testing
