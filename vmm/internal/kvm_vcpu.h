// vmm/internal/kvm_vcpu.h: KvmVcpu, the KVM side of the vCPU-run seam (vmm/internal/vcpu_runner.h):
// one vCPU fd and its kvm_run mapping. KVM_RUN and the translation of struct kvm_run exits into
// Exit values, and KVM_GET_MP_STATE for the halt polls. The threads, the supervisor and the exit
// handling are RunLoop's (vmm/internal/run_loop.cc), shared with MSHV (vmm/internal/mshv_vcpu.cc).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "base/status.h"
#include "hv/device.h"
#include "hv/kvm_abi.h"
#include "vmm/internal/exit.h"
#include "vmm/internal/kvm_handles.h"
#include "vmm/internal/vcpu_runner.h"

namespace igvmkit::vmm {

// The KVM side of the vCPU-run seam: one vCPU fd and its kvm_run mapping.
class KvmVcpu final : public VcpuRunner {
 public:
  KvmVcpu(hv::Device& sys, unsigned index) : sys_(sys), index_(index) {}

  unsigned index() const override { return index_; }
  Result<std::optional<Exit>> run() override;
  Status complete(const Exit&) override { return okStatus(); }  // data lives in kvm_run
  uint64_t rip() override;
  bool canPoll() const override { return true; }
  Exit pollState() override;
  void requestExit() override { std::atomic_ref<uint8_t>(run_->immediate_exit).store(1); }
  void clearExitRequest() override { std::atomic_ref<uint8_t>(run_->immediate_exit).store(0); }

  Fd fd;
  Mapping run_map;

  void attach(size_t run_size) {
    run_size_ = run_size;
    run_ = reinterpret_cast<hv::kvm::kvm_run*>(run_map.data());
  }

 private:
  Exit translate(bool* ok);

  hv::Device& sys_;
  unsigned index_;
  hv::kvm::kvm_run* run_ = nullptr;
  size_t run_size_ = 0;
};

}  // namespace igvmkit::vmm
