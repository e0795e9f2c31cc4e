#include "vmm/testing/long_mode.h"

#include <cstring>

namespace igvmkit::vmm::testing {
namespace {

void put64(ByteVector& out, uint64_t offset, uint64_t value) {
  std::memcpy(out.data() + offset, &value, 8);
}

}  // namespace

ByteVector bytes(std::initializer_list<uint8_t> list) {
  ByteVector out;
  for (uint8_t b : list) {
    out.push_back(std::byte{b});
  }
  return out;
}

GuestSetup longModeGuest(uint64_t memory_bytes, uint64_t entry, ByteVector code, unsigned vcpus) {
  GuestSetup setup;
  setup.memory_bytes = memory_bytes;
  setup.vcpus = vcpus;

  ByteVector gdt(24);
  put64(gdt, 8, 0x00AF9B000000FFFF);   // 64-bit code, DPL 0
  put64(gdt, 16, 0x00CF93000000FFFF);  // flat data
  setup.loads.push_back({kGdtGpa, std::move(gdt)});

  // PML4 -> PDPT -> 4 page directories of 2 MiB pages: [0, 4 GiB) identity mapped.
  ByteVector tables(6 * 4096);
  put64(tables, 0, (kPml4Gpa + 0x1000) | 0x3);  // present | writable
  for (uint64_t i = 0; i < 4; ++i) {
    uint64_t pd = kPml4Gpa + 0x2000 + i * 0x1000;
    put64(tables, 0x1000 + i * 8, pd | 0x3);
    for (uint64_t j = 0; j < 512; ++j) {
      put64(tables, 0x2000 + i * 0x1000 + j * 8, ((i * 512 + j) << 21) | 0x83);  // P|RW|PS
    }
  }
  setup.loads.push_back({kPml4Gpa, std::move(tables)});
  setup.loads.push_back({entry, std::move(code)});

  x86::VpState& s = setup.bsp;
  s.rip = entry;
  s.rsp = kStackTop;
  s.rflags = 0x2;
  s.cr0 = 0x80000031;  // PG | NE | ET | PE
  s.cr3 = kPml4Gpa;
  s.cr4 = 0x20;    // PAE
  s.efer = 0x500;  // LMA | LME
  s.gdtr = {kGdtGpa, 23};
  s.idtr = {0, 0};
  s.cs = {0, 0xFFFFFFFF, 0x08, 0xA09B};
  x86::Segment data{0, 0xFFFFFFFF, 0x10, 0xC093};
  s.ds = s.es = s.fs = s.gs = s.ss = data;
  return setup;
}

}  // namespace igvmkit::vmm::testing
