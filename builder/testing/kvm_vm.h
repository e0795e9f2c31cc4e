// builder/testing/kvm_vm.h: a minimal KVM virtual machine for tests that run builder output on a
// real vCPU (RAM at 0, an optional page at 0xFFFFF000, one vCPU, no devices). Port writes and
// hlt end a run; the test reads registers and memory back.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <memory>
#include <string>

#include "base/bytes.h"

namespace igvmkit::builder::testing {

class KvmVm {
 public:
  // nullptr (and `why`) when KVM is unusable here; tests then skip.
  static std::unique_ptr<KvmVm> create(uint64_t ram_bytes, bool top_page, std::string* why);
  ~KvmVm();
  KvmVm(const KvmVm&) = delete;
  KvmVm& operator=(const KvmVm&) = delete;

  // Copies bytes to a guest address in RAM or the top page; false if outside both.
  bool write(uint64_t gpa, Bytes data);
  bool read(uint64_t gpa, void* out, uint64_t n) const;

  kvm_regs regs() const;
  kvm_sregs sregs() const;
  void setRegs(const kvm_regs& r);
  void setSregs(const kvm_sregs& s);

  struct Exit {
    uint32_t reason = 0;  // KVM_EXIT_*
    uint16_t port = 0;    // KVM_EXIT_IO
    uint8_t value = 0;    // first byte written (KVM_EXIT_IO out)
    bool in = false;      // KVM_EXIT_IO in: store the answer through `data`
    uint8_t* data = nullptr;
  };
  Exit run();
  // Like run(), but a timer interrupts KVM_RUN after `ms` milliseconds: reason KVM_EXIT_INTR.
  Exit runFor(int ms);

 private:
  KvmVm() = default;
  int kvm_ = -1, vm_ = -1, vcpu_ = -1;
  uint8_t* ram_ = nullptr;
  uint64_t ram_bytes_ = 0;
  uint8_t* top_ = nullptr;
  kvm_run* run_ = nullptr;
  size_t run_size_ = 0;
};

}  // namespace igvmkit::builder::testing
