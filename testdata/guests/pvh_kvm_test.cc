// The PVH build of the probe (probe_pvh.elf) on the real /dev/kvm, entered the way a PVH loader
// (QEMU's -kernel) enters it: 32-bit protected mode, paging off, flat segments, EBX = the GPA of a
// hand-made hvm_start_info whose e820 table is out of order and has a partial page. The probe must
// print the same lines as from an IGVM info block: the command line, the e820 table as a sorted
// IGVM memory map, the vCPU count from CPUID, and start the AP. Skips without /dev/kvm.
#include <elf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/bytes.h"
#include "base/file.h"
#include "vmm/testing/guest_setup.h"
#include "vmm/vmm.h"

namespace igvmkit {
namespace {

constexpr uint64_t kMemory = 64 << 20;
constexpr uint64_t kStartInfoGpa = 0x6000;
constexpr uint64_t kMemmapGpa = 0x6100;
constexpr uint64_t kCmdlineGpa = 0x7000;
constexpr uint32_t kHvmStartMagic = 0x336ec578;  // Xen's XEN_HVM_START_MAGIC_VALUE

// Xen's start_info.h layouts (version 1).
struct HvmStartInfo {
  uint32_t magic = 0, version = 0, flags = 0, nr_modules = 0;
  uint64_t modlist_paddr = 0, cmdline_paddr = 0, rsdp_paddr = 0, memmap_paddr = 0;
  uint32_t memmap_entries = 0, reserved = 0;
};
static_assert(sizeof(HvmStartInfo) == 56);
struct HvmMemmapEntry {
  uint64_t addr, size;
  uint32_t type, reserved;
};
static_assert(sizeof(HvmMemmapEntry) == 24);

template <class T>
void put(ByteVector& v, const T& value) {
  const auto* p = reinterpret_cast<const std::byte*>(&value);
  v.insert(v.end(), p, p + sizeof(T));
}

std::string runfile(const char* name) {
  const char* dir = std::getenv("TEST_SRCDIR");
  return std::string(dir ? dir : ".") + "/igvmkit/testdata/guests/" + name;
}

// The PVH ELF's loadable bytes and its entry, as a GuestSetup with the vCPU in 32-bit protected
// mode at the entry (xen docs/misc/pvh.pandoc: CS/DS/ES/SS flat, CR0.PE, paging off, EBX).
vmm::GuestSetup pvhGuest(uint32_t magic, const std::string& cmdline, unsigned vcpus) {
  vmm::GuestSetup setup;
  setup.memory_bytes = kMemory;
  setup.vcpus = vcpus;
  Result<ByteVector> elf = readFile(runfile("probe_pvh.elf"));
  EXPECT_TRUE(elf.ok()) << elf.error().describe();
  if (!elf.ok()) {
    return setup;
  }
  Result<Elf64_Ehdr> ehdr = readStruct<Elf64_Ehdr>(*elf, 0);
  EXPECT_TRUE(ehdr.ok());
  for (unsigned i = 0; ehdr.ok() && i < ehdr->e_phnum; ++i) {
    Result<Elf64_Phdr> ph = readStruct<Elf64_Phdr>(*elf, ehdr->e_phoff + i * sizeof(Elf64_Phdr));
    EXPECT_TRUE(ph.ok());
    if (!ph.ok() || ph->p_type != PT_LOAD || ph->p_filesz == 0) {
      continue;
    }
    Result<Bytes> seg = slice(*elf, ph->p_offset, ph->p_filesz);
    EXPECT_TRUE(seg.ok());
    if (seg.ok()) {
      setup.loads.push_back({.gpa = ph->p_paddr, .data = ByteVector(seg->begin(), seg->end())});
    }
  }
  // The e820 table out of order, the low RAM ending in a partial page, the reserved range
  // starting in one: [0, 0x9fc00) RAM, [0x9fc00, 0xa0000) reserved, [1 MiB, 64 MiB) RAM.
  ByteVector memmap;
  put(memmap, HvmMemmapEntry{0x100000, kMemory - 0x100000, 1, 0});
  put(memmap, HvmMemmapEntry{0x9fc00, 0x400, 2, 0});
  put(memmap, HvmMemmapEntry{0, 0x9fc00, 1, 0});
  ByteVector info;
  put(info, HvmStartInfo{.magic = magic,
                         .version = 1,
                         .cmdline_paddr = kCmdlineGpa,
                         .memmap_paddr = kMemmapGpa,
                         .memmap_entries = 3});
  ByteVector text;
  for (char c : cmdline) {
    text.push_back(static_cast<std::byte>(c));
  }
  text.push_back(std::byte{0});
  setup.loads.push_back({.gpa = kStartInfoGpa, .data = info});
  setup.loads.push_back({.gpa = kMemmapGpa, .data = memmap});
  setup.loads.push_back({.gpa = kCmdlineGpa, .data = text});

  x86::VpState& s = setup.bsp;
  s.rip = ehdr.ok() ? ehdr->e_entry : 0;
  s.rbx = kStartInfoGpa;
  s.cr0 = 0x11;  // PE | ET
  const x86::Segment code{.base = 0, .limit = 0xffffffff, .selector = 0x08, .attributes = 0xc09b};
  const x86::Segment data{.base = 0, .limit = 0xffffffff, .selector = 0x10, .attributes = 0xc093};
  s.cs = code;
  s.ds = s.es = s.ss = s.fs = s.gs = data;
  return setup;
}

class PvhKvmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
      GTEST_SKIP() << "no /dev/kvm";
    }
  }
};

vmm::RunConfig config(std::string& out) {
  vmm::RunConfig c;
  c.timeout = std::chrono::seconds(60);
  c.serial = vmm::serialToString(out);
  return c;
}

TEST_F(PvhKvmTest, ProbeReadsHvmStartInfoAndStartsTheAp) {
  std::string out;
  Result<vmm::RunOutcome> outcome = vmm::run(pvhGuest(kHvmStartMagic, "smp pvh", 2), config(out));
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(out,
            "probe: igvmkit probe 1\n"
            "cmdline: smp pvh\n"
            "memmap[0]: gpa 0x0 pages 0x9f type 0 flags 0\n"
            "memmap[1]: gpa 0x9f000 pages 0x1 type 1 flags 0\n"
            "memmap[2]: gpa 0x100000 pages 0x3f00 type 0 flags 0\n"
            "memmap: 3 entries\n"
            "vp_count: 2\n"
            "blob: (none)\n"
            "smp: vcpu 1 up\n"
            "smp: 2 of 2 vcpus up\n"
            "probe: ok\n");
  EXPECT_EQ(outcome->exit_status, 0) << outcome->cause;
  EXPECT_EQ(outcome->cause, "debug exit port 0xf4");
}

TEST_F(PvhKvmTest, WrongMagicIsAnInfoFailure) {
  std::string out;
  Result<vmm::RunOutcome> outcome = vmm::run(pvhGuest(0x12345678, "", 1), config(out));
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(out, "probe: igvmkit probe 1\nprobe: fail 0x1\n");
  EXPECT_EQ(outcome->exit_status, 0x1);
}

}  // namespace
}  // namespace igvmkit
