// hv/testing/fake_device.h: a Device that records every call, checks each argument against
// the documented uAPI structure (reserved fields zero, flags known, the right fd kind, the
// orderings the kernel enforces), and answers like a cooperative kernel. Tests script results.
// Sizes come from the kernels' own headers (tests/oracles/kernel_abi_facts.h), not from hv/: every
// request must be the kernel's number with the kernel's argument size in _IOC_SIZE, and every
// KVM_MEMORY_ENCRYPT_OP command structure and MSHV_ROOT_HVCALL input/output the kernel's size.
// The strict views below (argOf, payloadOf, ...) fail the test on a size mismatch.
//
//   testing::FakeDevice dev;                     // /dev/kvm, /dev/sev, /dev/mshv present
//   dev.failOnce("KVM_SEV_SNP_LAUNCH_UPDATE", EIO);
//   auto backend = makeBackend(BackendKind::kKvmSnp, dev);
//   Status s = launch(*backend, plan);
//   EXPECT_THAT(dev.ioctlNames(), ElementsAre("KVM_GET_API_VERSION", ...));
//   EXPECT_TRUE(dev.violations().empty());
//
// A call whose argument breaks a documented rule is recorded in violations() and fails with
// -EINVAL, as the kernel would.
//
// KVM vCPUs run scripted exits (the VMM's run loop): queueKvmRun(vcpu, step) makes the vCPU's next
// KVM_RUN run `step`, which fills the vCPU's kvm_run (its fd's mmap, KVM_GET_VCPU_MMAP_SIZE
// bytes) for one exit and returns KVM_RUN's result; with none queued, KVM_RUN blocks like a halted
// vCPU until kvm_run.immediate_exit is set (the VMM's kick), then fails with -EINTR.
// KVM_GET_MP_STATE and KVM_GET_REGS answer what setMpState() / setVcpuRegisters() say. Memory
// the fake maps is real anonymous memory, so guestMemory() shows what a VMM copied into guest RAM.
//
// MSHV VPs run scripted intercepts: queueRunVpMessage(vp, message) makes the VP's next
// MSHV_RUN_VP return that 256-byte hv_message; with none queued, MSHV_RUN_VP waits a millisecond
// and fails with -EINTR (as a signal would make it). SET_VP_REGISTERS / GET_VP_REGISTERS through
// MSHV_ROOT_HVCALL keep a register file per VP (vpRegister()). The fake is thread-safe, so a VMM
// may run several VPs on their own threads against it.
#pragma once

#include <array>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <functional>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "base/bytes.h"
#include "hv/device.h"
#include "hv/kvm_abi.h"

namespace igvmkit::hv::testing {

struct FakeCall {
  enum class Kind { kOpen, kClose, kIoctl, kMmap, kMunmap, kEventfd };
  Kind kind = Kind::kIoctl;
  // The decoded name: "open /dev/kvm", "KVM_CREATE_VM", "KVM_SEV_SNP_LAUNCH_UPDATE",
  // "KVM_TDX_INIT_MEM_REGION", "MSHV_ROOT_HVCALL(SET_PARTITION_PROPERTY)", "mmap", ...
  std::string name;
  int fd = -1;
  int vcpu = -1;  // for an ioctl on a KVM vCPU fd: the vCPU's KVM_CREATE_VCPU index
  unsigned long request = 0;
  unsigned long value = 0;  // the integer argument of value-form ioctls
  ByteVector arg;           // the argument structure as passed in
  ByteVector payload;       // what it points to: SEV/TDX command data, hypercall input
  long result = 0;
};

// Strict views of what a call passed. Each fails the calling test (a gtest failure naming the
// call) unless the recorded bytes are exactly what the view claims, so a test can never read a
// structure the backend did not pass whole. The fake records an argument with the size the kernel
// reads for that call (kernel_abi_facts.h), so a local struct of the wrong size fails here.
//
// The argument structure as a T: `arg` must be exactly sizeof(T) bytes.
template <class T>
T argOf(const FakeCall* c);
// What the argument points to (SEV/TDX command data, hypercall input) as a T; likewise exact.
template <class T>
T payloadOf(const FakeCall* c);
// A variable-length argument or payload: a Header followed by `count` Entry records, where
// `count` is a number or a function of the Header (the count the header declares). The recorded
// bytes must be exactly sizeof(Header) + count * sizeof(Entry).
//   auto pages = argWithEntries<mshv_import_isolated_pages, uint64_t>(
//       call, [](const auto& h) { return h.page_count; });
template <class Header, class Entry>
struct WithEntries {
  Header header{};
  std::vector<Entry> entries;
};
template <class Header, class Entry, class Count>
WithEntries<Header, Entry> argWithEntries(const FakeCall* c, Count count);
template <class Header, class Entry, class Count>
WithEntries<Header, Entry> payloadWithEntries(const FakeCall* c, Count count);

namespace internal {
// Records a test failure: `what` of call `name` is `got` bytes, the view needs `want`.
void sizeMismatch(const std::string& name, const char* what, size_t got, size_t want);

template <class T>
T exactly(const FakeCall* c, const ByteVector& bytes, const char* what) {
  T v{};
  if (bytes.size() != sizeof(T)) {
    sizeMismatch(c->name, what, bytes.size(), sizeof(T));
    return v;
  }
  std::memcpy(&v, bytes.data(), sizeof(T));
  return v;
}

template <class Header, class Entry, class Count>
WithEntries<Header, Entry> withEntries(const FakeCall* c, const ByteVector& bytes, Count count,
                                       const char* what) {
  WithEntries<Header, Entry> out;
  if (bytes.size() < sizeof(Header)) {
    sizeMismatch(c->name, what, bytes.size(), sizeof(Header));
    return out;
  }
  std::memcpy(&out.header, bytes.data(), sizeof(Header));
  size_t n = 0;
  if constexpr (std::is_invocable_v<Count, const Header&>) {
    n = static_cast<size_t>(count(out.header));
  } else {
    n = static_cast<size_t>(count);
  }
  const size_t room = (bytes.size() - sizeof(Header)) / sizeof(Entry);
  if (n != room || bytes.size() != sizeof(Header) + n * sizeof(Entry)) {
    sizeMismatch(c->name, what, bytes.size(),
                 n > bytes.size() ? SIZE_MAX : sizeof(Header) + n * sizeof(Entry));
    return out;
  }
  out.entries.resize(n);
  if (n != 0) {
    std::memcpy(out.entries.data(), bytes.data() + sizeof(Header), n * sizeof(Entry));
  }
  return out;
}
}  // namespace internal

template <class T>
T argOf(const FakeCall* c) {
  return internal::exactly<T>(c, c->arg, "argument");
}
template <class T>
T payloadOf(const FakeCall* c) {
  return internal::exactly<T>(c, c->payload, "payload");
}
template <class Header, class Entry, class Count>
WithEntries<Header, Entry> argWithEntries(const FakeCall* c, Count count) {
  return internal::withEntries<Header, Entry>(c, c->arg, count, "argument");
}
template <class Header, class Entry, class Count>
WithEntries<Header, Entry> payloadWithEntries(const FakeCall* c, Count count) {
  return internal::withEntries<Header, Entry>(c, c->payload, count, "payload");
}

class FakeDevice : public Device {
 public:
  FakeDevice();
  ~FakeDevice() override;

  int open(const std::string& path, int flags) override;
  int close(int fd) override;
  long ioctl(int fd, unsigned long request, void* arg) override;
  long ioctl(int fd, unsigned long request, unsigned long value) override;
  void* mmap(size_t length, int prot, int flags, int fd, off_t offset, int* err) override;
  int munmap(void* addr, size_t length) override;
  int eventfd(unsigned int initval, int flags) override;

  // Returns a result instead of the default answer (nullopt: answer as usual). `arg` is the live
  // argument (nullptr for value-form ioctls).
  using Handler = std::function<std::optional<long>(FakeCall& call, void* arg)>;
  void script(const std::string& name, Handler handler);
  // The next call named `name` fails with -err.
  void failOnce(const std::string& name, int err);
  void removeDevice(const std::string& path);           // open() then fails with ENOENT
  void setVmTypes(uint64_t mask) { vm_types_ = mask; }  // KVM_CAP_VM_TYPES answer
  void setMshvUpstream(bool upstream) { mshv_upstream_ = upstream; }
  // The next MSHV_RUN_VP on VP `vp_index` copies `message` (256 bytes) into its argument.
  void queueRunVpMessage(uint32_t vp_index, ByteVector message);
  // The low 64 bits of a register last set (or nullopt) on VP `vp_index` of partition `partition_fd`.
  std::optional<uint64_t> vpRegister(int partition_fd, uint32_t vp_index, uint32_t name) const;

  // One exit of a KVM vCPU: fills `run` and returns KVM_RUN's result (0, or -errno).
  struct KvmRun {
    kvm::kvm_run* run;
    long ioOut(uint16_t port, uint8_t value);  // OUT of one byte, data in the PIO page
    long exitReason(uint32_t reason);           // any other exit reason
  };
  using KvmRunStep = std::function<long(KvmRun&)>;
  // The next KVM_RUN on KVM vCPU `vcpu` (its KVM_CREATE_VCPU index) runs `step`.
  void queueKvmRun(unsigned vcpu, KvmRunStep step);
  // KVM_GET_MP_STATE's answer on vCPU `vcpu` (default KVM_MP_STATE_RUNNABLE).
  void setMpState(unsigned vcpu, uint32_t state);
  // KVM_GET_REGS's answer on vCPU `vcpu` (default: what KVM_SET_REGS last set there, else zeros).
  void setVcpuRegisters(unsigned vcpu, const kvm::kvm_regs& regs);
  // The host address of guest physical address `gpa` in the KVM memory slots registered so far
  // (the last registration that covers it), or nullptr.
  std::byte* guestMemory(uint64_t gpa) const;
  // Every fd closed and every mapping unmapped (what a VMM owns must be gone after a run).
  bool allReleased() const;

  // Called after every ioctl (after the default answer or the script) with the live argument.
  using Observer = std::function<void(const FakeCall& call, void* arg)>;
  void observe(Observer observer) { observers_.push_back(std::move(observer)); }

  // Read these only while no other thread uses the fake.
  const std::vector<FakeCall>& calls() const { return calls_; }
  std::vector<std::string> ioctlNames() const;  // names of the ioctl calls, in order
  std::vector<const FakeCall*> find(std::string_view name) const;
  const std::vector<std::string>& violations() const { return violations_; }

 private:
  enum class FdKind { kKvm, kSev, kMshv, kVm, kVcpu, kGuestMemfd, kPartition, kVp, kEventfd };
  struct FdInfo {
    FdKind kind;
    int parent = -1;         // the VM / partition of a vCPU, VP or guest_memfd
    unsigned long type = 0;  // VM type, partition isolation, vCPU index
    uint64_t size = 0;       // guest_memfd size
  };
  struct VmState {
    int vps = 0;  // MSHV VPs created in a partition
    bool sev_initialized = false, snp_started = false, snp_finished = false;
    bool tdx_initialized = false, tdx_finalized = false;
    int vcpus = 0;
    std::vector<std::tuple<uint64_t, uint64_t, bool>> attributes;  // (gpa, size, private) in order
    std::vector<std::tuple<uint64_t, uint64_t, int>> slots;        // (gpa, size, guest_memfd or -1)
  };

  long dispatch(FakeCall& call, void* arg);
  long defaultAnswer(FakeCall& call, void* arg);
  std::string decodeName(int fd, unsigned long request, void* arg) const;
  // Checks the call's sizes against the kernel's (kernel_abi_facts.h) and records its argument and
  // payload as the kernel would read them.
  void record(FakeCall& call, void* arg, std::vector<std::string>& problems);
  void validate(FakeCall& call, void* arg, std::vector<std::string>& problems);
  bool isPrivate(const VmState& vm, uint64_t gpa, uint64_t size) const;
  int newFd(FdInfo info);
  int vcpuOf(int fd) const;  // the KVM vCPU index of a vCPU fd, else -1

  long ioctlLocked(int fd, unsigned long request, void* arg);
  long hvcallAnswer(FakeCall& call, void* arg);

  mutable std::recursive_mutex mutex_;
  std::map<int, FdInfo> fds_;
  std::map<uint32_t, std::deque<ByteVector>> run_vp_messages_;
  // (partition fd, vp index) -> register name -> 16-byte value.
  std::map<std::pair<int, uint32_t>, std::map<uint32_t, std::array<std::byte, 16>>> vp_regs_;
  std::map<int, VmState> vms_;
  std::map<int, kvm::kvm_run*> kvm_runs_;  // vCPU fd -> its mmapped kvm_run
  std::map<unsigned, std::deque<KvmRunStep>> kvm_run_steps_;
  std::map<unsigned, uint32_t> mp_states_;
  std::map<unsigned, kvm::kvm_regs> vcpu_regs_;                      // setVcpuRegisters
  std::map<unsigned, kvm::kvm_regs> regs_set_;                       // the last KVM_SET_REGS
  std::vector<std::tuple<uint64_t, uint64_t, uint64_t>> host_slots_;  // (gpa, size, host address)
  std::set<std::string> devices_{"/dev/kvm", "/dev/sev", "/dev/mshv"};
  std::map<std::string, Handler> scripts_;
  std::map<std::string, int> fail_once_;
  std::vector<Observer> observers_;
  std::vector<FakeCall> calls_;
  std::vector<std::string> violations_;
  std::map<void*, size_t> maps_;
  uint64_t vm_types_ = (1u << 0) | (1u << 4) | (1u << 5);
  bool mshv_upstream_ = false;
  int next_fd_ = 100;
};

}  // namespace igvmkit::hv::testing
