// Exit handling and devices, without /dev/kvm: each row feeds handleExit() a made-up exit.
#include "base/testing/matchers.h"
#include "vmm/internal/exit.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace igvmkit::vmm {
namespace {

using ::igvmkit::testing::HasRule;

struct Machine {
  explicit Machine(unsigned vcpus = 1)
      : devices(
            serialToString(out), [this](bool level) { irq_levels.push_back(level); }, vcpus) {}
  std::string out;
  std::vector<bool> irq_levels;
  Devices devices;
};

Exit io(uint16_t port, bool is_write, std::vector<uint8_t>& data, uint8_t size = 1) {
  Exit e;
  e.kind = Exit::Kind::kIo;
  e.port = port;
  e.is_write = is_write;
  e.size = size;
  e.count = static_cast<uint32_t>(data.size() / size);
  e.data = data;
  return e;
}

Exit kind(Exit::Kind k, unsigned vcpu = 0, uint64_t rip = 0) {
  Exit e;
  e.kind = k;
  e.vcpu = vcpu;
  e.rip = rip;
  return e;
}

Exit halt(unsigned vcpu, bool interrupts_enabled) {
  Exit e = kind(Exit::Kind::kHlt, vcpu, 0x1000);
  e.interrupts_enabled = interrupts_enabled;
  return e;
}

// The run-ending rules of cli-contract.md "run", one row each.
struct StopCase {
  const char* name;
  Exit exit;
  Action::Kind kind;
  int status;
  const char* cause;
};

TEST(HandleExit, StopTable) {
  std::vector<uint8_t> exit7 = {7};
  std::vector<uint8_t> exit0 = {0};
  std::vector<uint8_t> reset = {0xFE};
  std::vector<uint8_t> not_reset = {0xAD};
  std::vector<uint8_t> unknown = {0x55};
  Exit sys_shutdown = kind(Exit::Kind::kSystemEvent);
  sys_shutdown.detail = 1;
  Exit sys_crash = kind(Exit::Kind::kSystemEvent, 0, 0x1234);
  sys_crash.detail = 3;
  Exit other = kind(Exit::Kind::kOther, 1, 0xfff0);
  other.detail = 7;  // KVM_EXIT_EXCEPTION, never expected with these settings
  Exit fail_entry = kind(Exit::Kind::kFailEntry, 0, 0x10);
  fail_entry.detail = 0x21;
  Exit internal_error = kind(Exit::Kind::kInternalError, 0, 0x20);
  internal_error.detail = 1;
  const StopCase cases[] = {
      {"debug exit 7", io(0xF4, true, exit7), Action::Kind::kStop, 7, "debug exit port 0xf4"},
      {"debug exit 0", io(0xF4, true, exit0), Action::Kind::kStop, 0, "debug exit port 0xf4"},
      {"i8042 reset", io(0x64, true, reset), Action::Kind::kStop, 0, "i8042 reset"},
      {"i8042 other command", io(0x64, true, not_reset), Action::Kind::kContinue, 0, ""},
      {"unknown port write", io(0x80, true, unknown), Action::Kind::kContinue, 0, ""},
      {"triple fault", kind(Exit::Kind::kShutdown, 0, 0x100004), Action::Kind::kStop, 125,
       "triple fault on vcpu 0 at rip 0x100004"},
      {"hlt with interrupts off, last vcpu", halt(0, false), Action::Kind::kStop, 0, "halt"},
      {"hlt with interrupts on", halt(0, true), Action::Kind::kContinue, 0, ""},
      {"system shutdown", sys_shutdown, Action::Kind::kStop, 0, "system shutdown"},
      {"system crash", sys_crash, Action::Kind::kStop, 125,
       "system event 0x3 on vcpu 0 at rip 0x1234"},
      {"unhandled exit", other, Action::Kind::kStop, 125,
       "unhandled exit (kvm exit reason 7) on vcpu 1 at rip 0xfff0"},
      {"entry failure", fail_entry, Action::Kind::kStop, 125,
       "vm entry failed (hardware reason 0x21) on vcpu 0 at rip 0x10"},
      {"internal error", internal_error, Action::Kind::kStop, 125,
       "kvm internal error (suberror 0x1) on vcpu 0 at rip 0x20"},
  };
  for (const StopCase& c : cases) {
    Machine m(2);
    Action a = handleExit(c.exit, m.devices);
    EXPECT_EQ(a.kind, c.kind) << c.name;
    EXPECT_EQ(a.status, c.status) << c.name;
    EXPECT_EQ(a.cause, c.cause) << c.name;
  }
}

TEST(HandleExit, HaltEndsTheRunOnlyWhenNoVcpuRuns) {
  Machine m(3);
  // vCPU 1 was started and runs; vCPU 2 still waits for SIPI.
  EXPECT_EQ(handleExit(kind(Exit::Kind::kRunning, 1), m.devices).kind, Action::Kind::kContinue);
  EXPECT_EQ(handleExit(halt(0, false), m.devices).kind, Action::Kind::kContinue);
  EXPECT_EQ(m.devices.vcpus[0], VcpuState::kHalted);
  // vCPU 1 halts with interrupts on: it can still be woken, so it counts as running.
  EXPECT_EQ(handleExit(halt(1, true), m.devices).kind, Action::Kind::kContinue);
  Action last = handleExit(halt(1, false), m.devices);
  EXPECT_EQ(last.kind, Action::Kind::kStop);
  EXPECT_EQ(last.status, 0);
  EXPECT_EQ(m.devices.vcpus[2], VcpuState::kWaitForSipi);
}

TEST(HandleExit, ExitFromUnknownVcpuIsAFailure) {
  Machine m(1);
  Action a = handleExit(halt(5, false), m.devices);
  EXPECT_EQ(a.kind, Action::Kind::kStop);
  EXPECT_EQ(a.status, 125);
}

TEST(HandleExit, UnknownPortsReadAllOnesAndAreCounted) {
  Machine m;
  std::vector<uint8_t> data = {0, 0, 0, 0};
  EXPECT_EQ(handleExit(io(0x1234, false, data, 4), m.devices).kind, Action::Kind::kContinue);
  EXPECT_EQ(data, (std::vector<uint8_t>{0xFF, 0xFF, 0xFF, 0xFF}));
  std::vector<uint8_t> w = {1};
  EXPECT_EQ(handleExit(io(0x80, true, w), m.devices).kind, Action::Kind::kContinue);
  EXPECT_EQ(m.devices.stats.unhandled_pio, 2u);
}

TEST(HandleExit, UnmappedMmioReadsAllOnesWritesIgnored) {
  Machine m;
  uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  Exit r = kind(Exit::Kind::kMmio);
  r.address = 0xD0000000;
  r.data = std::span<uint8_t>(buf, 4);
  EXPECT_EQ(handleExit(r, m.devices).kind, Action::Kind::kContinue);
  EXPECT_EQ(buf[0], 0xFF);
  EXPECT_EQ(buf[3], 0xFF);
  EXPECT_EQ(buf[4], 5);  // only the access's own bytes
  Exit w = r;
  w.is_write = true;
  buf[0] = 0x12;
  EXPECT_EQ(handleExit(w, m.devices).kind, Action::Kind::kContinue);
  EXPECT_EQ(buf[0], 0x12);
  EXPECT_EQ(m.devices.stats.unmapped_mmio, 2u);
}

TEST(HandleExit, StringOutputGoesToTheUartByteByByte) {
  Machine m;
  std::vector<uint8_t> text = {'o', 'k', '\n'};
  EXPECT_EQ(handleExit(io(0x3F8, true, text), m.devices).kind, Action::Kind::kContinue);
  EXPECT_EQ(m.out, "ok\n");
  EXPECT_EQ(m.devices.stats.serial_bytes, 3u);
}

TEST(HandleExit, StringOutputStopsAtTheDebugExit) {
  Machine m;
  std::vector<uint8_t> data = {3, 4};  // rep outsb to 0xf4: the first byte ends the run
  Action a = handleExit(io(0xF4, true, data), m.devices);
  EXPECT_EQ(a.kind, Action::Kind::kStop);
  EXPECT_EQ(a.status, 3);
}

TEST(HandleExit, MalformedIoIsAFailureNotACrash) {
  Machine m;
  std::vector<uint8_t> data = {1};
  Exit e = io(0x3F8, true, data);
  e.count = 1000;  // claims more data than the buffer holds
  Action a = handleExit(e, m.devices);
  EXPECT_EQ(a.kind, Action::Kind::kStop);
  EXPECT_EQ(a.status, 125);
  e.count = 1;
  e.size = 3;
  EXPECT_EQ(handleExit(e, m.devices).status, 125);
}

TEST(HandleExit, WrongWidthDeviceAccessesAreCountedAndIgnored) {
  Machine m;
  std::vector<uint8_t> word = {'x', 'y'};
  EXPECT_EQ(handleExit(io(0x3F8, true, word, 2), m.devices).kind, Action::Kind::kContinue);
  std::vector<uint8_t> wide_exit = {1, 0};
  EXPECT_EQ(handleExit(io(0xF4, true, wide_exit, 2), m.devices).kind, Action::Kind::kContinue);
  std::vector<uint8_t> wide_reset = {0xFE, 0};
  EXPECT_EQ(handleExit(io(0x64, true, wide_reset, 2), m.devices).kind, Action::Kind::kContinue);
  std::vector<uint8_t> wide_read = {0, 0, 0, 0};
  EXPECT_EQ(handleExit(io(0x3FD, false, wide_read, 4), m.devices).kind, Action::Kind::kContinue);
  EXPECT_EQ(wide_read, (std::vector<uint8_t>{0xFF, 0xFF, 0xFF, 0xFF}));
  EXPECT_EQ(m.out, "");
  EXPECT_EQ(m.devices.stats.wrong_width, 4u);
  EXPECT_EQ(m.devices.stats.unhandled_pio, 0u);
}

// --- the bus ---

class Recorder final : public PioDevice {
 public:
  void read(uint16_t offset, std::span<uint8_t> data) override {
    offsets.push_back(offset);
    data[0] = 0x5A;
  }
  void write(uint16_t offset, std::span<const uint8_t>) override { offsets.push_back(offset); }
  std::vector<uint16_t> offsets;
};

TEST(PioBus, DevicesSeeOffsetsIntoTheirRange) {
  PioBus bus;
  Recorder a, b;
  ASSERT_TRUE(bus.insert(0x100, 4, a).ok());
  ASSERT_TRUE(bus.insert(0x104, 2, b).ok());
  uint8_t byte = 0;
  EXPECT_TRUE(bus.write(0x103, std::span<const uint8_t>(&byte, 1)));
  EXPECT_TRUE(bus.read(0x105, std::span<uint8_t>(&byte, 1)));
  EXPECT_EQ(byte, 0x5A);
  EXPECT_FALSE(bus.write(0x106, std::span<const uint8_t>(&byte, 1)));
  EXPECT_FALSE(bus.read(0xFF, std::span<uint8_t>(&byte, 1)));
  EXPECT_EQ(byte, 0xFF);
  EXPECT_EQ(a.offsets, std::vector<uint16_t>{3});
  EXPECT_EQ(b.offsets, std::vector<uint16_t>{1});
}

TEST(PioBus, RefusesEmptyWrappingAndOverlappingRanges) {
  PioBus bus;
  Recorder d;
  ASSERT_TRUE(bus.insert(0x3F8, 8, d).ok());
  struct Case {
    uint16_t base;
    uint32_t length;
    const char* rule;
    const char* message;
  };
  const Case cases[] = {
      {0x10, 0, "pio.empty_range", "port range at 0x10 is empty"},
      {0xFFFE, 3, "pio.range_wraps", "port range 0xfffe+0x3 runs past port 0xffff"},
      {0x3F0, 9, "pio.overlap", "port range 0x3f0+0x9 overlaps 0x3f8+0x8"},
      {0x3FF, 1, "pio.overlap", "port range 0x3ff+0x1 overlaps 0x3f8+0x8"},
  };
  for (const Case& c : cases) {
    Status s = bus.insert(c.base, c.length, d);
    ASSERT_FALSE(s.ok()) << c.message;
    EXPECT_THAT(s, HasRule(c.rule));
    EXPECT_EQ(s.error().message, c.message);
  }
  EXPECT_TRUE(bus.insert(0xFFFF, 1, d).ok());  // the last port is a valid range
  EXPECT_TRUE(bus.insert(0x3F0, 8, d).ok());   // adjacent, not overlapping
}

// --- the UART (16550A register semantics) ---

uint8_t readReg(Machine& m, uint16_t offset) {
  std::vector<uint8_t> d = {0};
  (void)handleExit(io(0x3F8 + offset, false, d), m.devices);
  return d[0];
}
void writeReg(Machine& m, uint16_t offset, uint8_t v) {
  std::vector<uint8_t> d = {v};
  (void)handleExit(io(0x3F8 + offset, true, d), m.devices);
}

TEST(Serial, TransmitterIsAlwaysReadyAndNothingIsReceived) {
  Machine m;
  EXPECT_EQ(readReg(m, 5), 0x60);  // LSR: THRE | TEMT, no DR
  EXPECT_EQ(readReg(m, 0), 0x00);  // RBR
  EXPECT_EQ(readReg(m, 2), 0x01);  // IIR: no interrupt pending
  writeReg(m, 7, 0xA5);            // scratch register round-trips (Linux probes it)
  EXPECT_EQ(readReg(m, 7), 0xA5);
}

TEST(Serial, DivisorLatchHidesThrAndIer) {
  Machine m;
  writeReg(m, 3, 0x83);  // DLAB on, 8N1
  writeReg(m, 0, 0x01);  // DLL: 115200 baud
  writeReg(m, 1, 0x00);  // DLM
  EXPECT_EQ(readReg(m, 0), 0x01);
  writeReg(m, 3, 0x03);  // DLAB off
  writeReg(m, 0, 'A');
  EXPECT_EQ(m.out, "A");
  EXPECT_EQ(readReg(m, 1), 0x00);  // IER untouched by the DLM write
}

TEST(Serial, ThrEmptyInterruptFollowsIerAndOut2) {
  Machine m;
  writeReg(m, 1, 0x02);  // enable THRE interrupt: THR is empty, so it fires at once
  EXPECT_EQ(m.irq_levels, std::vector<bool>{true});
  EXPECT_EQ(readReg(m, 2), 0x02);  // IIR: THR empty; reading it acknowledges
  EXPECT_EQ(m.irq_levels, (std::vector<bool>{true, false}));
  EXPECT_EQ(readReg(m, 2), 0x01);
  writeReg(m, 0, 'x');  // the byte leaves at once: THR empty again
  EXPECT_EQ(m.irq_levels, (std::vector<bool>{true, false, true}));
  writeReg(m, 4, 0x00);  // OUT2 off gates the line
  EXPECT_EQ(m.irq_levels, (std::vector<bool>{true, false, true, false}));
}

TEST(Serial, LoopbackMirrorsModemControlAndSendsNothing) {
  Machine m;
  writeReg(m, 4, 0x1F);  // loopback, DTR RTS OUT1 OUT2
  EXPECT_EQ(readReg(m, 6) & 0xF0, 0xF0);
  writeReg(m, 4, 0x10);
  EXPECT_EQ(readReg(m, 6) & 0xF0, 0x00);
  writeReg(m, 0, 'z');
  EXPECT_EQ(m.out, "");
}

TEST(Serial, ReceivedBytesAreReadFromRbrInOrder) {
  Machine m;
  EXPECT_EQ(m.devices.com1.receive("hi"), 2u);
  EXPECT_EQ(readReg(m, 5) & 0x01, 0x01);  // LSR.DR
  EXPECT_EQ(readReg(m, 0), 'h');
  EXPECT_EQ(readReg(m, 0), 'i');
  EXPECT_EQ(readReg(m, 5), 0x60);  // drained
  EXPECT_EQ(readReg(m, 0), 0x00);
}

TEST(Serial, ReceivedDataInterruptHasPriorityAndClearsWhenDrained) {
  Machine m;
  writeReg(m, 1, 0x03);            // RDA and THRE interrupts
  EXPECT_EQ(readReg(m, 2), 0x02);  // THR empty (acknowledged by this read)
  m.irq_levels.clear();
  m.devices.com1.receive("x");
  EXPECT_EQ(m.irq_levels, std::vector<bool>{true});
  writeReg(m, 0, 'o');  // THR empty pending again, but received data comes first
  EXPECT_EQ(readReg(m, 2), 0x04);
  EXPECT_EQ(readReg(m, 0), 'x');
  EXPECT_EQ(readReg(m, 2), 0x02);  // now the THR-empty interrupt
  EXPECT_EQ(m.irq_levels, (std::vector<bool>{true, false}));
}

TEST(Serial, InputBeyondTheBufferIsRefused) {
  Machine m;
  std::string big(5000, 'a');
  EXPECT_EQ(m.devices.com1.receive(big), 4096u);
  EXPECT_EQ(m.devices.com1.receive("b"), 0u);
  (void)readReg(m, 0);
  EXPECT_EQ(m.devices.com1.receive("bc"), 1u);
}

TEST(I8042, OnlyResetCommandOnCommandPortEndsTheRun) {
  Machine m;
  std::vector<uint8_t> fe = {0xFE};
  EXPECT_EQ(handleExit(io(0x60, true, fe), m.devices).kind, Action::Kind::kContinue);  // data port
  std::vector<uint8_t> status = {0xAA};
  EXPECT_EQ(handleExit(io(0x64, false, status), m.devices).kind, Action::Kind::kContinue);
  EXPECT_EQ(status[0], 0x00);  // input buffer empty: a wait-for-ready loop finishes
  EXPECT_EQ(handleExit(io(0x64, true, fe), m.devices).status, 0);
  EXPECT_EQ(m.devices.stop->cause, "i8042 reset");
}

}  // namespace
}  // namespace igvmkit::vmm
