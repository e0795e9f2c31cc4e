// The MSHV run loop without an MSHV host: the loader's mshv backend launches a small plan on the
// hv's FakeDevice (which checks every ioctl's argument structure), then vmm::runMshv() runs it
// while the fake replays recorded intercept messages. The tests check the outcome, the device
// output and the register writes that step past each intercepted instruction.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/testing/matchers.h"
#include "hv/mshv_abi.h"
#include "hv/testing/fake_device.h"
#include "loader/backend.h"
#include "loader/plan.h"
#include "tests/oracles/kernel_abi_facts.h"
#include "vmm/internal/mshv_vcpu.h"
#include "vmm/vmm.h"

using ::igvmkit::testing::HasRule;

namespace igvmkit::vmm {
namespace {

using hv::testing::FakeCall;
using hv::testing::FakeDevice;
namespace mshv = hv::mshv;

constexpr uint64_t kEntry = 0x100000;

// --- Recorded intercept messages ----------------------------------------------------------------
//
// Each message is a 256-byte image with every field written at the offset the hypervisor's headers
// give (tests/oracles/kernel_abi_facts.h: hvgdk_mini.h's hv_message, hvhdk.h's intercept layouts,
// each fact citing its line), never through the decoder's own structs, so a wrong offset in
// hv/mshv_abi.h makes the decoder misread these messages. Field widths are the headers'
// declared types.

namespace f = oracles::kernel;

class MessageImage {
 public:
  MessageImage(uint64_t type, uint64_t payload_size)
      : bytes_(f::hv_message::struct_size.value, std::byte{0}) {
    put<uint32_t>(f::hv_message_header::message_type.value, type);
    put<uint8_t>(f::hv_message_header::payload_size.value, payload_size);
  }
  // Writes `value` at `offset` within the payload (hv_message.u).
  template <class T>
  void field(uint64_t offset, uint64_t value) {
    put<T>(f::hv_message::u.value + offset, value);
  }
  // hv_x64_segment_register at `offset` within the payload.
  void segment(uint64_t offset, uint64_t base, uint32_t limit, uint16_t selector, uint16_t attrib) {
    field<uint64_t>(offset + f::hv_x64_segment_register::base.value, base);
    field<uint32_t>(offset + f::hv_x64_segment_register::limit.value, limit);
    field<uint16_t>(offset + f::hv_x64_segment_register::selector.value, selector);
    field<uint16_t>(offset + f::hv_x64_segment_register::attributes.value, attrib);
  }
  // hv_x64_intercept_message_header at the start of the payload.
  void interceptHeader(uint32_t vp, uint64_t rip, uint8_t access, uint8_t length,
                       uint64_t rflags = 0x2) {
    namespace h = f::hv_x64_intercept_message_header;
    field<uint32_t>(h::vp_index.value, vp);
    field<uint8_t>(h::instruction_length.value, length & 0xF);  // bits 3:0; CR8 in 7:4 stays 0
    field<uint8_t>(h::intercept_access_type.value, access);
    field<uint16_t>(h::execution_state.value, 0x15);  // CPL 0, CR0.PE, EFER.LMA
    segment(h::cs_segment.value, 0, 0xFFFFFFFF, 0x08, 0xA09B);
    field<uint64_t>(h::rip.value, rip);
    field<uint64_t>(h::rflags.value, rflags);
  }
  ByteVector take() { return std::move(bytes_); }

 private:
  template <class T>
  void put(uint64_t offset, uint64_t value) {
    const T v = static_cast<T>(value);
    std::memcpy(bytes_.data() + offset, &v, sizeof(T));
  }
  ByteVector bytes_;
};

struct Io {
  uint16_t port = 0;
  bool write = true;
  uint8_t size = 1;
  uint64_t rax = 0;
  uint64_t rip = kEntry;
  uint8_t length = 1;  // OUT DX, AL / IN AL, DX
  bool string_op = false;
  uint32_t vp = 0;
};

// HVMSG_X64_IO_PORT_INTERCEPT with an hv_x64_io_port_intercept_message payload.
ByteVector ioMessage(const Io& io) {
  namespace m = f::hv_x64_io_port_intercept_message;
  MessageImage msg(f::HVMSG_X64_IO_PORT_INTERCEPT.value, m::struct_size.value);
  msg.interceptHeader(io.vp, io.rip,
                      io.write ? f::HV_INTERCEPT_ACCESS_WRITE.value : f::HV_INTERCEPT_ACCESS_READ.value,
                      io.length);
  msg.field<uint16_t>(m::port_number.value, io.port);
  // access_info: bits 2:0 access size, bit 3 string op (hvhdk.h union hv_x64_io_port_access_info).
  msg.field<uint8_t>(m::access_info.value, io.size | (io.string_op ? 0x8 : 0));
  msg.field<uint8_t>(m::instruction_byte_count.value, io.length);
  msg.field<uint64_t>(m::rax.value, io.rax);
  return msg.take();
}

// HVMSG_UNMAPPED_GPA / HVMSG_GPA_INTERCEPT with an hv_x64_memory_intercept_message payload.
ByteVector memoryMessage(uint64_t type, uint64_t gpa, uint64_t access, uint64_t rip) {
  namespace m = f::hv_x64_memory_intercept_message;
  MessageImage msg(type, m::struct_size.value);
  msg.interceptHeader(0, rip, static_cast<uint8_t>(access), 0);
  msg.field<uint8_t>(m::instruction_byte_count.value, 6);
  msg.field<uint8_t>(m::memory_access_info.value, 0x3);  // gva valid, gva->gpa valid
  msg.field<uint64_t>(m::guest_physical_address.value, gpa);
  msg.field<uint64_t>(m::guest_virtual_address.value, gpa);
  return msg.take();
}

// A message whose payload is only the intercept header (halt, MSR, exceptions).
ByteVector headerMessage(uint64_t type, uint32_t vp, uint64_t rip, uint64_t rflags) {
  MessageImage msg(type, f::hv_x64_intercept_message_header::struct_size.value);
  msg.interceptHeader(vp, rip, 0, 0, rflags);
  return msg.take();
}

// --- A launched partition on the fake -----------------------------------------------------------

struct Partition {
  FakeDevice dev;
  std::unique_ptr<loader::Backend> backend;
  size_t launch_calls = 0;  // calls made by the loader, before the run
};

std::unique_ptr<Partition> launched(uint32_t vcpus = 1) {
  auto p = std::make_unique<Partition>();
  loader::Plan plan;
  plan.backend = loader::BackendKind::kMshv;
  plan.config.memory_size = 16 << 20;
  plan.config.vcpus = vcpus;
  plan.ops.push_back(loader::MapMemory{0, 16 << 20, false});
  loader::SetVpState bsp;
  bsp.vp_index = 0;
  x86::VpState regs;
  regs.rip = kEntry;
  regs.rax = 0x1111;
  bsp.state = regs;
  plan.ops.push_back(bsp);
  plan.ops.push_back(loader::Finalize{});
  p->backend = loader::makeBackend(loader::BackendKind::kMshv, p->dev);
  Status s = loader::launch(*p->backend, plan);
  EXPECT_TRUE(s.ok()) << s.error().describe();
  p->launch_calls = p->dev.calls().size();
  return p;
}

RunConfig config(FakeDevice& dev, std::string* out = nullptr) {
  RunConfig c;
  c.device = &dev;
  c.timeout = std::chrono::seconds(20);  // a hang fails the test instead of stalling it
  if (out != nullptr) {
    c.serial = serialToString(*out);
  }
  return c;
}

// The register writes the run made (not the loader's), each as (vp, [(name, value)]).
struct RegisterWrite {
  uint32_t vp;
  std::vector<std::pair<uint32_t, uint64_t>> regs;
};
std::vector<RegisterWrite> runRegisterWrites(const Partition& p) {
  std::vector<RegisterWrite> out;
  const auto& calls = p.dev.calls();
  for (size_t i = p.launch_calls; i < calls.size(); ++i) {
    if (calls[i].name != "MSHV_ROOT_HVCALL(SET_VP_REGISTERS)" || calls[i].result != 0) {
      continue;
    }
    auto in = hv::testing::payloadWithEntries<mshv::hv_input_set_vp_registers,
                                              mshv::hv_register_assoc>(
        &calls[i], hv::testing::argOf<mshv::mshv_root_hvcall>(&calls[i]).reps);
    RegisterWrite w{in.header.vp_index, {}};
    for (const mshv::hv_register_assoc& a : in.entries) {
      uint64_t v;
      std::memcpy(&v, a.value, 8);
      w.regs.emplace_back(a.name, v);
    }
    out.push_back(std::move(w));
  }
  return out;
}

using Regs = std::vector<std::pair<uint32_t, uint64_t>>;

// --- The run loop -------------------------------------------------------------------------------

TEST(MshvRun, SerialOutputThenDebugExitStatus) {
  auto p = launched();
  // The probe's pattern: poll LSR until THR is empty, write the byte; then the exit port.
  p->dev.queueRunVpMessage(0, ioMessage({.port = 0x3FD, .write = false, .rax = 0xAB12,
                                         .rip = 0x100000}));
  p->dev.queueRunVpMessage(0, ioMessage({.port = 0x3F8, .rax = 0x7700 | 'h', .rip = 0x100004}));
  p->dev.queueRunVpMessage(0, ioMessage({.port = 0x3F8, .rax = 'i', .rip = 0x100008}));
  p->dev.queueRunVpMessage(0, ioMessage({.port = 0xF4, .rax = 0xFFFF'FF00 | 42, .rip = 0x10000C}));
  std::string out;
  Result<RunOutcome> o = runMshv(p->backend->vm(), config(p->dev, &out));
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->exit_status, 42);
  EXPECT_EQ(o->cause, "debug exit port 0xf4");
  EXPECT_EQ(o->vcpu, 0u);
  EXPECT_EQ(o->rip, 0x10000Du);  // after the OUT, as on KVM
  EXPECT_EQ(out, "hi");
  EXPECT_EQ(o->stats.serial_bytes, 2u);
  EXPECT_EQ(o->stats.unhandled_pio, 0u);
  // IN: RIP past the 1-byte instruction and AL = LSR (THRE | TEMT), RAX above AL kept. OUT: RIP
  // only. The exit port ends the run, so nothing steps past it.
  std::vector<RegisterWrite> w = runRegisterWrites(*p);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].regs, (Regs{{mshv::kRegRip, 0x100001}, {mshv::kRegRax, 0xAB60}}));
  EXPECT_EQ(w[1].regs, (Regs{{mshv::kRegRip, 0x100005}}));
  EXPECT_EQ(w[2].regs, (Regs{{mshv::kRegRip, 0x100009}}));
  for (const RegisterWrite& x : w) {
    EXPECT_EQ(x.vp, 0u);
  }
  EXPECT_TRUE(p->dev.violations().empty()) << p->dev.violations()[0];
}

TEST(MshvRun, InWidthsFillAlAxOrEax) {
  auto p = launched();
  // Port 0x80 has no device: reads return all ones. EAX results clear RAX's upper half.
  p->dev.queueRunVpMessage(0, ioMessage({.port = 0x80, .write = false, .size = 1,
                                         .rax = 0x1234'5678'9ABC'DE00, .length = 2}));
  p->dev.queueRunVpMessage(0, ioMessage({.port = 0x80, .write = false, .size = 2,
                                         .rax = 0x1234'5678'9ABC'0000, .rip = 0x100002}));
  p->dev.queueRunVpMessage(0, ioMessage({.port = 0x80, .write = false, .size = 4,
                                         .rax = 0x1234'5678'0000'0000, .rip = 0x100003}));
  p->dev.queueRunVpMessage(0, ioMessage({.port = 0xF4, .rax = 0, .rip = 0x100004}));
  Result<RunOutcome> o = runMshv(p->backend->vm(), config(p->dev));
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->exit_status, 0);
  EXPECT_EQ(o->stats.unhandled_pio, 3u);
  std::vector<RegisterWrite> w = runRegisterWrites(*p);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].regs, (Regs{{mshv::kRegRip, 0x100002}, {mshv::kRegRax, 0x1234'5678'9ABC'DEFF}}));
  EXPECT_EQ(w[1].regs, (Regs{{mshv::kRegRip, 0x100003}, {mshv::kRegRax, 0x1234'5678'9ABC'FFFF}}));
  EXPECT_EQ(w[2].regs, (Regs{{mshv::kRegRip, 0x100004}, {mshv::kRegRax, 0xFFFF'FFFF}}));
  // The fake's register file holds the last values the run wrote.
  EXPECT_EQ(p->dev.vpRegister(p->backend->vm().vm_fd, 0, mshv::kRegRip), 0x100004u);
  EXPECT_EQ(p->dev.vpRegister(p->backend->vm().vm_fd, 0, mshv::kRegRax), 0xFFFF'FFFFu);
  EXPECT_TRUE(p->dev.violations().empty()) << p->dev.violations()[0];
}

TEST(MshvRun, UnknownPortWritesAreIgnoredCountedAndStepped) {
  auto p = launched();
  p->dev.queueRunVpMessage(0, ioMessage({.port = 0x80, .rax = 0x55, .length = 2}));
  p->dev.queueRunVpMessage(0, ioMessage({.port = 0xF4, .rax = 3, .rip = 0x100002}));
  Result<RunOutcome> o = runMshv(p->backend->vm(), config(p->dev));
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->exit_status, 3);
  EXPECT_EQ(o->stats.unhandled_pio, 1u);
  std::vector<RegisterWrite> w = runRegisterWrites(*p);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].regs, (Regs{{mshv::kRegRip, 0x100002}}));
}

TEST(MshvRun, I8042ResetEndsWithZero) {
  auto p = launched();
  p->dev.queueRunVpMessage(0, ioMessage({.port = 0x64, .rax = 0xFE}));
  Result<RunOutcome> o = runMshv(p->backend->vm(), config(p->dev));
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->exit_status, 0);
  EXPECT_EQ(o->cause, "i8042 reset");
}

TEST(MshvRun, HaltWithInterruptsOffEndsWithZero) {
  auto p = launched();
  p->dev.queueRunVpMessage(0, headerMessage(f::HVMSG_X64_HALT.value, 0, 0x100020, 0x2));
  Result<RunOutcome> o = runMshv(p->backend->vm(), config(p->dev));
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->exit_status, 0);
  EXPECT_EQ(o->cause, "halt");
  EXPECT_EQ(o->rip, 0x100020u);
  EXPECT_TRUE(runRegisterWrites(*p).empty());
}

TEST(MshvRun, HaltWithInterruptsOnKeepsRunning) {
  auto p = launched();
  p->dev.queueRunVpMessage(0, headerMessage(f::HVMSG_X64_HALT.value, 0, 0x100020, 0x202));
  p->dev.queueRunVpMessage(0, ioMessage({.port = 0xF4, .rax = 7, .rip = 0x100021}));
  Result<RunOutcome> o = runMshv(p->backend->vm(), config(p->dev));
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->exit_status, 7);
}

TEST(MshvRun, TripleFaultIs125WithCauseAndRip) {
  auto p = launched();
  p->dev.queueRunVpMessage(0, headerMessage(f::HVMSG_UNRECOVERABLE_EXCEPTION.value, 0, 0x100123, 2));
  Result<RunOutcome> o = runMshv(p->backend->vm(), config(p->dev));
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->exit_status, kFailureStatus);
  EXPECT_EQ(o->cause, "triple fault on vcpu 0 at rip 0x100123");
  EXPECT_EQ(o->rip, 0x100123u);
}

TEST(MshvRun, MmioToAnUnmappedGpaEndsTheRunAndSaysWhy) {
  for (uint64_t type : {f::HVMSG_UNMAPPED_GPA.value, f::HVMSG_GPA_INTERCEPT.value}) {
    auto p = launched();
    p->dev.queueRunVpMessage(0, memoryMessage(type, 0xFED0'0000, f::HV_INTERCEPT_ACCESS_WRITE.value,
                                              0x100040));
    Result<RunOutcome> o = runMshv(p->backend->vm(), config(p->dev));
    ASSERT_TRUE(o.ok()) << o.error().describe();
    EXPECT_EQ(o->exit_status, kFailureStatus);
    EXPECT_EQ(o->cause,
              "mmio write to unmapped gpa 0xfed00000 on vcpu 0 at rip 0x100040 is not emulated "
              "on mshv (no instruction emulator)");
    EXPECT_EQ(o->stats.unmapped_mmio, 1u);
    EXPECT_TRUE(runRegisterWrites(*p).empty());  // the instruction is not skipped
  }
  auto p = launched();
  p->dev.queueRunVpMessage(0, memoryMessage(f::HVMSG_UNMAPPED_GPA.value, 0xC000'0000,
                                            f::HV_INTERCEPT_ACCESS_EXECUTE.value, 0xC000'0000));
  Result<RunOutcome> o = runMshv(p->backend->vm(), config(p->dev));
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->exit_status, kFailureStatus);
  EXPECT_EQ(o->cause, "instruction fetch from unmapped gpa 0xc0000000 on vcpu 0 at rip 0xc0000000");
}

TEST(MshvRun, StringIoAndUnknownMessagesEndTheRun) {
  auto p = launched();
  p->dev.queueRunVpMessage(0, ioMessage({.port = 0x3F8, .rax = 0, .rip = 0x100050,
                                         .string_op = true}));
  Result<RunOutcome> o = runMshv(p->backend->vm(), config(p->dev));
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->exit_status, kFailureStatus);
  EXPECT_EQ(o->cause, "string i/o on port 0x3f8 is not emulated on mshv on vcpu 0 at rip 0x100050");

  auto q = launched();
  q->dev.queueRunVpMessage(0, headerMessage(f::HVMSG_X64_MSR_INTERCEPT.value, 0, 0x100060, 2));
  o = runMshv(q->backend->vm(), config(q->dev));
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->exit_status, kFailureStatus);
  EXPECT_EQ(o->cause,
            "mshv message 0x80010001 (msr intercept) is not handled on vcpu 0 at rip 0x100060");
}

TEST(MshvRun, TimeoutReportsTheRipReadBack) {
  auto p = launched();  // nothing scripted: MSHV_RUN_VP keeps returning EINTR
  RunConfig c = config(p->dev);
  c.timeout = std::chrono::milliseconds(100);
  Result<RunOutcome> o = runMshv(p->backend->vm(), c);
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->exit_status, kFailureStatus);
  EXPECT_EQ(o->cause, "timeout");
  EXPECT_EQ(o->rip, kEntry);  // GET_VP_REGISTERS: what the loader set
  EXPECT_FALSE(p->dev.find("MSHV_ROOT_HVCALL(GET_VP_REGISTERS)").empty());
  EXPECT_TRUE(p->dev.violations().empty()) << p->dev.violations()[0];
}

TEST(MshvRun, RunVpFailureEndsTheRun) {
  auto p = launched();
  p->dev.failOnce("MSHV_RUN_VP", EIO);
  Result<RunOutcome> o = runMshv(p->backend->vm(), config(p->dev));
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->exit_status, kFailureStatus);
  EXPECT_EQ(o->cause.rfind("MSHV_RUN_VP on vcpu 0 failed: ", 0), 0u) << o->cause;
  EXPECT_NE(o->cause.find("(errno 5)"), std::string::npos) << o->cause;
}

TEST(MshvRun, SecondVpEndsTheRunWithItsOwnIndex) {
  auto p = launched(2);
  p->dev.queueRunVpMessage(1, ioMessage({.port = 0x80, .rax = 1, .rip = 0x8000, .vp = 1}));
  p->dev.queueRunVpMessage(1, ioMessage({.port = 0xF4, .rax = 55, .rip = 0x8001, .vp = 1}));
  Result<RunOutcome> o = runMshv(p->backend->vm(), config(p->dev));
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->exit_status, 55);
  EXPECT_EQ(o->vcpu, 1u);
  std::vector<RegisterWrite> w = runRegisterWrites(*p);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].vp, 1u);  // SET_VP_REGISTERS names the VP that took the intercept
  EXPECT_EQ(w[0].regs, (Regs{{mshv::kRegRip, 0x8001}}));
  EXPECT_TRUE(p->dev.violations().empty()) << p->dev.violations()[0];
}

TEST(MshvRun, APartitionWithoutVpsIsRefused) {
  FakeDevice dev;
  loader::LoadedVm vm;
  vm.vm_fd = 3;
  Result<RunOutcome> o = runMshv(vm, config(dev));
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().code, Code::kUsage);
}

// --- Decoding, without a run ---------------------------------------------------------------------

TEST(MshvDecode, MalformedMessagesBecomeFailuresNotCrashes) {
  uint8_t data[4];
  std::span<uint8_t, 4> io(data);
  // Payload shorter than an I/O intercept.
  mshv::hv_message m{};
  ByteVector short_payload = MessageImage(f::HVMSG_X64_IO_PORT_INTERCEPT.value, 20).take();
  std::memcpy(&m, short_payload.data(), sizeof(m));
  MshvIntercept d = decodeMshvMessage(m, 0, io);
  EXPECT_EQ(d.exit.kind, Exit::Kind::kOther);
  EXPECT_EQ(d.exit.reason, "malformed mshv i/o intercept (payload 20 bytes)");
  // A payload size beyond the 240-byte payload.
  ByteVector long_payload = MessageImage(f::HVMSG_X64_IO_PORT_INTERCEPT.value, 241).take();
  std::memcpy(&m, long_payload.data(), sizeof(m));
  EXPECT_EQ(decodeMshvMessage(m, 0, io).exit.kind, Exit::Kind::kOther);
  // For another VP.
  ByteVector other = ioMessage({.port = 0x3F8, .vp = 1});
  std::memcpy(&m, other.data(), sizeof(m));
  d = decodeMshvMessage(m, 0, io);
  EXPECT_EQ(d.exit.kind, Exit::Kind::kOther);
  EXPECT_EQ(d.exit.reason, "mshv i/o intercept for vp 1");
  // No instruction length: stepping is impossible.
  ByteVector zero_len = ioMessage({.port = 0x3F8, .length = 0});
  std::memcpy(&m, zero_len.data(), sizeof(m));
  d = decodeMshvMessage(m, 0, io);
  EXPECT_EQ(d.exit.kind, Exit::Kind::kOther);
  EXPECT_EQ(d.exit.reason, "mshv i/o intercept on port 0x3f8 without an instruction length");
  // HVMSG_NONE: nothing to do.
  mshv::hv_message none{};
  EXPECT_TRUE(decodeMshvMessage(none, 0, io).ignore);
}

TEST(MshvDecode, OutDataIsTheLowBytesOfRax) {
  uint8_t data[4];
  mshv::hv_message m{};
  ByteVector b = ioMessage({.port = 0x3F8, .size = 2, .rax = 0x1122'3344'5566'7788, .length = 2});
  std::memcpy(&m, b.data(), sizeof(m));
  MshvIntercept d = decodeMshvMessage(m, 0, std::span<uint8_t, 4>(data));
  ASSERT_EQ(d.exit.kind, Exit::Kind::kIo);
  EXPECT_TRUE(d.exit.is_write);
  EXPECT_EQ(d.exit.port, 0x3F8);
  ASSERT_EQ(d.exit.data.size(), 2u);
  EXPECT_EQ(d.exit.data[0], 0x88);
  EXPECT_EQ(d.exit.data[1], 0x77);
  EXPECT_EQ(d.exit.rip, kEntry + 2);
  EXPECT_EQ(d.instruction_length, 2);
}

TEST(MshvDecode, RaxAfterIn) {
  const uint8_t b[4] = {0x11, 0x22, 0x33, 0x44};
  EXPECT_EQ(raxAfterIn(0xFFFF'FFFF'FFFF'FFFF, std::span(b, 1)), 0xFFFF'FFFF'FFFF'FF11u);
  EXPECT_EQ(raxAfterIn(0xFFFF'FFFF'FFFF'FFFF, std::span(b, 2)), 0xFFFF'FFFF'FFFF'2211u);
  EXPECT_EQ(raxAfterIn(0xFFFF'FFFF'FFFF'FFFF, std::span(b, 4)), 0x4433'2211u);
}

// --- Choosing the hypervisor ---------------------------------------------------------------------

TEST(ChooseHypervisor, DefaultIsWhicheverDeviceExists) {
  EXPECT_EQ(*chooseHypervisor("", true, false), Hypervisor::kKvm);
  EXPECT_EQ(*chooseHypervisor("", false, true), Hypervisor::kMshv);
  EXPECT_EQ(*chooseHypervisor("", true, true), Hypervisor::kKvm);
  Result<Hypervisor> none = chooseHypervisor("", false, false);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none, HasRule("run.no_hypervisor"));
  EXPECT_EQ(none.error().message,
            "neither /dev/kvm nor /dev/mshv is present: igvmkit run needs kvm or the microsoft "
            "hypervisor (mshv)");
}

TEST(ChooseHypervisor, NamedHypervisors) {
  EXPECT_EQ(*chooseHypervisor("kvm", false, true), Hypervisor::kKvm);  // the loader says why not
  EXPECT_EQ(*chooseHypervisor("mshv", false, true), Hypervisor::kMshv);
  Result<Hypervisor> no_mshv = chooseHypervisor("mshv", true, false);
  ASSERT_FALSE(no_mshv.ok());
  EXPECT_EQ(no_mshv.error().code, Code::kUsage);
  EXPECT_THAT(no_mshv, HasRule("run.no_mshv"));
  Result<Hypervisor> bad = chooseHypervisor("xen", true, true);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Code::kUsage);
  EXPECT_THAT(bad, HasRule("run.hypervisor"));
}

}  // namespace
}  // namespace igvmkit::vmm
