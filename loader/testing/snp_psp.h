// loader/testing/snp_psp.h: a simulated AMD SNP firmware (PSP) plus the host-side KVM/MSHV
// behaviour that feeds it, watching a FakeDevice. It computes the launch digest the way the
// firmware does, independently of measure/ (measurement.md §1.1-1.5): LD starts at 48 zero bytes,
// and every page launched extends it with SHA-384 over a 0x70-byte PAGE_INFO.
//
//   hv::testing::FakeDevice dev;
//   testing::SnpPsp psp(dev);          // watches kvm-snp and mshv-snp launches on `dev`
//   ASSERT_TRUE(launch(*makeBackend(BackendKind::kKvmSnp, dev), plan).ok());
//   EXPECT_EQ(hexBytes(psp.digest()), expected);
//
// kvm-snp: LAUNCH_START resets LD; LAUNCH_UPDATE measures its pages (ascending GPA) from the
// source buffer; LAUNCH_FINISH measures one VMSA per vCPU in index order at 0xFFFFFFFFF000, built
// from the register state the backend set (KVM's sev_es_sync_vmsa model), then checks the ID block.
// mshv-snp: IMPORT_ISOLATED_PAGES measures the named GPNs from the guest memory registered with
// SET_GUEST_MEMORY; COMPLETE_ISOLATED_IMPORT checks the ID block. The ID block check: LD equals
// the measured digest, version 1, policy = launch policy, the ID key's ECDSA P-384 signature over
// the 96 bytes, and with author_key_en the author key's signature over the ID key structure. A
// failed check makes the call fail with -EIO (KVM: firmware error 11), as hardware would.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "loader/plan.h"
#include "hv/testing/fake_device.h"

namespace igvmkit::loader::testing {

using Digest48 = std::array<uint8_t, 48>;

// Firmware page types (measurement.md §1.3).
inline constexpr uint8_t kFwPageNormal = 1, kFwPageVmsa = 2, kFwPageZero = 3, kFwPageUnmeasured = 4,
                         kFwPageSecrets = 5, kFwPageCpuid = 6;

// Test helper: fills id.id_auth with fresh P-384 keys: the ID key's signature over id.id_block
// and, with `author`, an author key's signature over the ID key (and sets author_key_enabled).
void signIdBlock(SnpIdBlock& id, bool author);

// Launches `plan` (kvm-snp or mshv-snp) on a fresh FakeDevice watched by an SnpPsp and returns the
// launch digest, or the launch's error (including an ID block the PSP refused). For the invariant
// test: this digest must equal measure/'s for the same file and host model.
Result<Digest48> simulateSnpLaunch(const Plan& plan);

class SnpPsp {
 public:
  explicit SnpPsp(hv::testing::FakeDevice& device);

  struct PageRecord {
    uint8_t type;
    uint64_t gpa;
    Digest48 contents;
    Digest48 digest_after;
  };

  const Digest48& digest() const { return ld_; }
  const std::vector<PageRecord>& trace() const { return trace_; }
  bool finished() const { return finished_; }
  // Why LAUNCH_FINISH / COMPLETE_ISOLATED_IMPORT was refused, if it was.
  const std::optional<std::string>& finishError() const { return finish_error_; }
  // The VMSA pages KVM synthesised at LAUNCH_FINISH, by vCPU index.
  const std::vector<ByteVector>& kvmVmsas() const { return kvm_vmsas_; }

  // One firmware measurement step: `page` (4096 bytes) is hashed for NORMAL and VMSA; other types
  // contribute 48 zero bytes (and may pass nullptr).
  void measurePage(uint8_t type, uint64_t gpa, const std::byte* page);
  void reset() {
    ld_.fill(0);
    trace_.clear();
  }

 private:
  struct VcpuModel {
    ByteVector regs, sregs, xcrs, debugregs, fpu;
    uint64_t pat = 0;
    bool pat_set = false;
  };
  void onCall(const hv::testing::FakeCall& call, void* arg);
  std::optional<long> onKvmFinish(hv::testing::FakeCall& call, void* arg);
  std::optional<long> onMshvComplete(hv::testing::FakeCall& call, void* arg);
  ByteVector kvmVmsa(const VcpuModel& v) const;
  std::optional<std::string> checkIdBlock(const uint8_t* id_block96, const uint8_t* id_auth4096,
                                          bool author_key_enabled) const;

  Digest48 ld_{};
  std::vector<PageRecord> trace_;
  bool finished_ = false;
  std::optional<std::string> finish_error_;
  uint64_t vmsa_features_ = 0;
  uint64_t policy_ = 0;
  std::map<int, uint32_t> vcpu_index_;  // vcpu fd -> index
  std::map<uint32_t, VcpuModel> vcpus_;
  std::vector<ByteVector> kvm_vmsas_;
  struct Region {
    uint64_t gpa, size, host;
  };
  std::vector<Region> mshv_memory_;
};

}  // namespace igvmkit::loader::testing
