// builder/elf.h: the `payload` component, a freestanding x86-64 ELF executable.
//
// parseElf() reads an ELF64 little-endian x86-64 ET_EXEC image from untrusted bytes with every
// offset bounds-checked, and returns its PT_LOAD segments (placed at p_paddr: the payload runs on
// identity-mapped page tables, so physical = virtual for a well-formed payload) and its entry
// point. It rejects what it cannot load faithfully: other classes, byte orders, machines and
// types; a PT_INTERP (needs a dynamic loader); segments whose file bytes lie outside the file,
// whose p_filesz exceeds p_memsz, whose range wraps or exceeds kElfMaxSegmentBytes (kElfMaxTotalBytes together), or that
// overlap another segment; an entry point outside every executable segment.
//
//   IGVMKIT_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
//   IGVMKIT_ASSIGN_OR_RETURN(ElfImage elf, parseElf(file.bytes()));
//   for (const ElfSegment& s : elf.segments) { pages.write(s.gpa, s.data); pages.zero(...); }
//
// Error rules: elf.truncated, elf.magic, elf.unsupported, elf.segment, elf.overlap, elf.entry.
#pragma once

#include <cstdint>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace igvmkit::builder {

// A segment larger than this is refused (1 GiB: more than any payload; it keeps a crafted p_memsz
// from making the builder allocate or describe terabytes).
inline constexpr uint64_t kElfMaxSegmentBytes = 0x4000'0000;
// All segments together (p_memsz) may not exceed this either.
inline constexpr uint64_t kElfMaxTotalBytes = 0x4000'0000;
// Guest physical addresses must stay below 2^52 (the architectural maximum).
inline constexpr uint64_t kElfMaxAddress = 1ull << 52;

struct ElfSegment {
  uint64_t gpa = 0;       // p_paddr
  uint64_t mem_size = 0;  // p_memsz; bytes past data.size() are zero (.bss)
  Bytes data;             // p_filesz bytes from the file (a view into it)
  bool executable = false;
  bool writable = false;
};

struct ElfImage {
  uint64_t entry = 0;                // e_entry
  std::vector<ElfSegment> segments;  // PT_LOAD with p_memsz > 0, sorted by gpa
};

struct ElfOptions {
  // Load at p_paddr even where p_vaddr differs (an uncompressed Linux vmlinux links its segments
  // at 0xffffffff8xxxxxxx and sets up its own virtual mapping; e_entry is physical). Off for
  // payloads, which run on the builder's identity map and so must have p_vaddr == p_paddr.
  bool physical = false;
};

Result<ElfImage> parseElf(Bytes file, ElfOptions options = {});

}  // namespace igvmkit::builder
