#include "vmm/internal/mshv_vcpu.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "base/bytes.h"

namespace igvmkit::vmm {
namespace {

using namespace hv::mshv;  // NOLINT: the ABI names read like the kernel's

constexpr uint64_t kRflagsIf = 1u << 9;
constexpr int kMaxRetries = 1000;

// A copy of the payload as T, when the message says it carries at least sizeof(T) bytes.
template <class T>
std::optional<T> payloadAs(const hv_message& msg) {
  static_assert(sizeof(T) <= sizeof(msg.payload));
  if (msg.header.payload_size < sizeof(T) || msg.header.payload_size > sizeof(msg.payload)) {
    return std::nullopt;
  }
  T out;
  std::memcpy(&out, msg.payload, sizeof(T));
  return out;
}

const char* messageName(uint32_t type) {
  switch (type) {
    case kHvMsgX64MsrIntercept:
      return "msr intercept";
    case kHvMsgX64CpuidIntercept:
      return "cpuid intercept";
    case kHvMsgX64ExceptionIntercept:
      return "exception intercept";
    case kHvMsgTimerExpired:
      return "timer expired";
    case kHvMsgUnsupportedFeature:
      return "unsupported feature";
    case kHvMsgInvalidVpRegisterValue:
      return "invalid vp register value";
    default:
      return "unknown";
  }
}

Exit other(unsigned vp, uint64_t rip, std::string reason) {
  Exit e;
  e.kind = Exit::Kind::kOther;
  e.vcpu = vp;
  e.rip = rip;
  e.reason = std::move(reason);
  return e;
}

// Every intercept names its VP; one for another VP means the message is not ours.
bool fromOtherVp(const hv_x64_intercept_message_header& h, unsigned vp) { return h.vp_index != vp; }

MshvIntercept decodeIo(const hv_message& msg, unsigned vp, std::span<uint8_t, 4> io_data) {
  MshvIntercept out;
  std::optional<hv_x64_io_port_intercept_message> io =
      payloadAs<hv_x64_io_port_intercept_message>(msg);
  if (!io) {
    out.exit = other(vp, 0, "malformed mshv i/o intercept (payload " +
                                std::to_string(msg.header.payload_size) + " bytes)");
    return out;
  }
  const hv_x64_intercept_message_header& h = io->header;
  out.rip = h.rip;
  out.instruction_length = h.instruction_length_cr8 & 0xF;
  out.rax = io->rax;
  if (fromOtherVp(h, vp)) {
    out.exit = other(vp, h.rip, "mshv i/o intercept for vp " + std::to_string(h.vp_index));
    return out;
  }
  const uint8_t size = io->access_info & 0x7;
  const bool string_op = (io->access_info & 0x8) != 0;
  if (string_op) {
    out.exit = other(vp, h.rip,
                     "string i/o on port " + hex(io->port_number) + " is not emulated on mshv");
    return out;
  }
  if (out.instruction_length == 0) {
    // Without the length the VMM cannot step past the instruction; re-running would repeat it.
    out.exit = other(vp, h.rip,
                     "mshv i/o intercept on port " + hex(io->port_number) +
                         " without an instruction length");
    return out;
  }
  if (h.intercept_access_type != kHvInterceptRead && h.intercept_access_type != kHvInterceptWrite) {
    out.exit = other(vp, h.rip,
                     "mshv i/o intercept with access type " + hex(h.intercept_access_type));
    return out;
  }
  Exit& e = out.exit;
  e.kind = Exit::Kind::kIo;
  e.vcpu = vp;
  e.port = io->port_number;
  e.size = size;
  e.count = 1;
  e.is_write = h.intercept_access_type == kHvInterceptWrite;
  // Like KVM's I/O exits: the address after the instruction.
  e.rip = h.rip + out.instruction_length;
  uint64_t rax = io->rax;
  std::fill(io_data.begin(), io_data.end(), uint8_t{0});
  if (e.is_write) {
    std::memcpy(io_data.data(), &rax, io_data.size());  // little endian: AL first
  }
  // A width other than 1, 2 or 4 reaches handleExit(), which ends the run as malformed.
  e.data = io_data.first(std::min<size_t>(size, io_data.size()));
  return out;
}

MshvIntercept decodeMemory(const hv_message& msg, unsigned vp) {
  MshvIntercept out;
  std::optional<hv_x64_memory_intercept_message> m =
      payloadAs<hv_x64_memory_intercept_message>(msg);
  if (!m) {
    out.exit = other(vp, 0, "malformed mshv memory intercept (payload " +
                                std::to_string(msg.header.payload_size) + " bytes)");
    return out;
  }
  const hv_x64_intercept_message_header& h = m->header;
  out.rip = h.rip;
  if (fromOtherVp(h, vp)) {
    out.exit = other(vp, h.rip, "mshv memory intercept for vp " + std::to_string(h.vp_index));
    return out;
  }
  if (h.intercept_access_type == kHvInterceptExecute ||
      (h.intercept_access_type != kHvInterceptRead &&
       h.intercept_access_type != kHvInterceptWrite)) {
    out.exit = other(vp, h.rip,
                     "instruction fetch from unmapped gpa " + hex(m->guest_physical_address));
    return out;
  }
  Exit& e = out.exit;
  e.kind = Exit::Kind::kMmio;
  e.vcpu = vp;
  e.rip = h.rip;
  e.address = m->guest_physical_address;
  e.is_write = h.intercept_access_type == kHvInterceptWrite;
  e.data = {};  // the width and data are in the instruction, which nothing here decodes
  return out;
}

}  // namespace

MshvIntercept decodeMshvMessage(const hv_message& msg, unsigned vp_index,
                                std::span<uint8_t, 4> io_data) {
  const uint32_t type = msg.header.message_type;
  switch (type) {
    case kHvMsgNone: {
      MshvIntercept out;
      out.ignore = true;
      return out;
    }
    case kHvMsgX64IoPortIntercept:
      return decodeIo(msg, vp_index, io_data);
    case kHvMsgUnmappedGpa:
    case kHvMsgGpaIntercept:
      return decodeMemory(msg, vp_index);
    case kHvMsgX64Halt:
    case kHvMsgUnrecoverableException: {
      MshvIntercept out;
      Exit& e = out.exit;
      e.vcpu = vp_index;
      e.kind = type == kHvMsgX64Halt ? Exit::Kind::kHlt : Exit::Kind::kShutdown;
      std::optional<hv_x64_intercept_message_header> h =
          payloadAs<hv_x64_intercept_message_header>(msg);
      if (h) {
        out.rip = h->rip;
        e.rip = h->rip;
        e.interrupts_enabled = (h->rflags & kRflagsIf) != 0;
      } else {
        e.interrupts_enabled = true;  // unknown: assume an interrupt may still wake it
      }
      return out;
    }
    default: {
      MshvIntercept out;
      std::optional<hv_x64_intercept_message_header> h =
          payloadAs<hv_x64_intercept_message_header>(msg);
      out.rip = h ? h->rip : 0;
      out.exit = other(vp_index, out.rip,
                       "mshv message " + hex(type) + " (" + messageName(type) + ") is not handled");
      return out;
    }
  }
}

uint64_t raxAfterIn(uint64_t rax, std::span<const uint8_t> data) {
  uint32_t value = 0;
  std::memcpy(&value, data.data(), std::min<size_t>(data.size(), 4));
  switch (data.size()) {
    case 1:
      return (rax & ~uint64_t{0xFF}) | (value & 0xFF);
    case 2:
      return (rax & ~uint64_t{0xFFFF}) | (value & 0xFFFF);
    default:
      return value;  // a 32-bit result clears RAX's upper half
  }
}

Result<std::optional<Exit>> MshvVcpu::run() {
  message_ = hv_message{};
  // Interruptible: the supervisor's kick must come back as EINTR, not be retried.
  long r = device_.ioctlInterruptible(vp_fd_, MSHV_RUN_VP, &message_);
  if (r == -EINTR || r == -EAGAIN) {
    return std::optional<Exit>();
  }
  if (r < 0) {
    return Error{Code::kInternal, "vmm.mshv_ioctl",
                 hv::errnoError("MSHV_RUN_VP on vcpu " + std::to_string(index_), r).message,
                 std::nullopt};
  }
  last_ = decodeMshvMessage(message_, index_, std::span<uint8_t, 4>(io_data_));
  if (last_.ignore) {
    return std::optional<Exit>();
  }
  return std::optional<Exit>(last_.exit);
}

Status MshvVcpu::setRegisters(std::span<const std::pair<uint32_t, uint64_t>> regs) {
  hv_input_set_vp_registers head{};
  head.vp_index = index_;
  ByteVector input;
  appendStruct(input, head);
  for (const auto& [name, value] : regs) {
    hv_register_assoc a{};
    a.name = name;
    std::memcpy(a.value, &value, sizeof(value));
    appendStruct(input, a);
  }
  mshv_root_hvcall call{};
  call.code = kHvcallSetVpRegisters;
  call.reps = static_cast<uint16_t>(regs.size());
  call.in_sz = static_cast<uint16_t>(input.size());
  call.in_ptr = reinterpret_cast<uint64_t>(input.data());
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    call.status = 0;
    long r = device_.ioctl(partition_fd_, MSHV_ROOT_HVCALL, &call);
    if (r == -EAGAIN || r == -EINTR) {
      continue;  // the kernel deposited memory, or a kick arrived: issue it again
    }
    if (r < 0) {
      Error e = hv::errnoError("MSHV_ROOT_HVCALL(SET_VP_REGISTERS) on vcpu " +
                                       std::to_string(index_),
                                   r);
      e.message += ", hv status " + hex(call.status);
      return e;
    }
    return okStatus();
  }
  return internal("SET_VP_REGISTERS kept returning EAGAIN");
}

Status MshvVcpu::complete(const Exit& e) {
  switch (e.kind) {
    case Exit::Kind::kIo: {
      // MSHV leaves RIP on the IN/OUT: step past it, and hand IN data over in RAX.
      const uint64_t next = last_.rip + last_.instruction_length;
      if (e.is_write) {
        const std::pair<uint32_t, uint64_t> regs[] = {{kRegRip, next}};
        return setRegisters(regs);
      }
      const std::pair<uint32_t, uint64_t> regs[] = {{kRegRip, next},
                                                    {kRegRax, raxAfterIn(last_.rax, e.data)}};
      return setRegisters(regs);
    }
    case Exit::Kind::kMmio:
      return Error{Code::kGuestFailed, "vmm.mshv_mmio",
                   std::string("mmio ") + (e.is_write ? "write to" : "read from") +
                       " unmapped gpa " + hex(e.address) + " on vcpu " + std::to_string(index_) +
                       " at rip " + hex(e.rip) +
                       " is not emulated on mshv (no instruction emulator)",
                   std::nullopt};
    default:
      return okStatus();  // a halt with interrupts on: the hypervisor wakes the VP on an interrupt
  }
}

uint64_t MshvVcpu::rip() {
  hv_input_get_vp_registers head{};
  head.vp_index = index_;
  ByteVector input;
  appendStruct(input, head);
  appendStruct(input, kRegRip);
  uint8_t output[kHvRegisterValueSize] = {};
  mshv_root_hvcall call{};
  call.code = kHvcallGetVpRegisters;
  call.reps = 1;
  call.in_sz = static_cast<uint16_t>(input.size());
  call.out_sz = sizeof(output);
  call.in_ptr = reinterpret_cast<uint64_t>(input.data());
  call.out_ptr = reinterpret_cast<uint64_t>(output);
  if (device_.ioctl(partition_fd_, MSHV_ROOT_HVCALL, &call) < 0) {
    return 0;
  }
  uint64_t rip = 0;
  std::memcpy(&rip, output, sizeof(rip));
  return rip;
}

Exit MshvVcpu::pollState() {
  Exit e;
  e.kind = Exit::Kind::kRunning;  // never called: canPoll() is false
  e.vcpu = index_;
  return e;
}

Result<RunOutcome> runMshv(const loader::LoadedVm& vm, const RunConfig& config) {
  if (vm.vm_fd < 0 || vm.vcpu_fds.empty() || vm.vcpu_fds.size() > igvm::kMaxVcpus) {
    return usage("the loaded partition has no partition fd or " +
                 std::to_string(vm.vcpu_fds.size()) + " vcpus (1.." + std::to_string(igvm::kMaxVcpus) +
                 ")");
  }
  std::unique_ptr<hv::Device> real;
  hv::Device& device =
      config.device != nullptr ? *config.device : *(real = hv::systemDevice());
  std::vector<std::unique_ptr<MshvVcpu>> vcpus;
  std::vector<VcpuRunner*> runners;
  for (size_t i = 0; i < vm.vcpu_fds.size(); ++i) {
    vcpus.push_back(
        std::make_unique<MshvVcpu>(device, vm.vm_fd, vm.vcpu_fds[i], static_cast<unsigned>(i)));
    runners.push_back(vcpus.back().get());
  }
  std::mutex device_mutex;
  // No interrupt line for COM1: asserting it would need HVCALL_ASSERT_VIRTUAL_INTERRUPT and an
  // IOAPIC model, neither of which is here.
  Devices devices(config.serial, [](bool) {}, static_cast<unsigned>(vcpus.size()));
  return RunLoop(runners, devices, device_mutex, config).run();
}

}  // namespace igvmkit::vmm
