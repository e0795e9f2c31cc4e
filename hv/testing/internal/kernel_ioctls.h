// hv/testing/internal/kernel_ioctls.h: what FakeDevice knows of the kernel's ioctls, for its
// three files (fake_device.cc: descriptors, recording, dispatch; fake_device_validate.cc: the
// per-ioctl checks; fake_device_answers.cc: the default answers): each request's name, the
// kernel's number and argument size (tests/oracles/kernel_abi_facts.h), the SEV/TDX command and
// hypercall names, and small byte helpers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>

#include "base/bytes.h"
#include "tests/oracles/kernel_abi_facts.h"

namespace igvmkit::hv::testing::detail {

namespace k = ::igvmkit::oracles::kernel;

// A T read from unaligned bytes.
template <class T>
T load(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// The argument size a request encodes (_IOC_SIZE).
constexpr size_t iocSize(unsigned long request) { return (request >> 16) & 0x3FFF; }

// What the kernel defines for each ioctl the fake answers, from the kernels' own headers
// (tests/oracles/kernel_abi_facts.h), never from hv/'s: its number, and the size of the structure
// its argument points to (for a variable-length argument, the fixed header; the entries follow).
// A caller's request must be the kernel's number, and the size _IOC_SIZE encodes the kernel's size.
struct KernelIoctl {
  const k::Fact& request;
  const k::Fact* arg;  // nullptr: the argument is a value (or, for ENCRYPT_OP, per command below)
  const char* arg_name;
};

// The size of the structure a KVM_MEMORY_ENCRYPT_OP command's `data` points to, as the kernel
// defines it (0: `data` is not a structure), and the size of the local struct the backends pass.
struct CommandPayload {
  size_t kernel = 0, local = 0;
  const char* name = "";
};

bool zero(const void* p, size_t n);          // all n bytes at p are zero
ByteVector copyOf(const void* p, size_t n);  // the n bytes at p

// The local name of a request, found by its direction, type and number; nullptr if unknown.
const std::string* requestName(unsigned long request);

// "KVM_SEV_SNP_LAUNCH_START", "KVM_TDX_INIT_VM", "HvCallSetVpRegisters", ... or a numbered name.
std::string sevName(uint32_t id);
std::string tdxName(uint32_t id);
std::string hvcallName(uint16_t code);

// The hypercalls upstream's MSHV_ROOT_HVCALL allow-list passes (loader-vmm.md §2.1) that we use.
bool allowedHvcall(uint16_t code);

// The kernel's definition of the ioctl a request names (by its local name), or nullptr.
const KernelIoctl* kernelIoctl(unsigned long request);

CommandPayload commandPayload(const std::string& name);

// "<what> is N bytes; the kernel's <struct> is M (kernel_abi_facts.h)".
std::string sizeProblem(const char* what, size_t got, const char* kernel_struct, uint64_t want);

}  // namespace igvmkit::hv::testing::detail
