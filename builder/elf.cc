#include "builder/elf.h"

#include <algorithm>
#include <cstddef>
#include <string>

namespace igvmkit::builder {
namespace {

// ELF64 wire layouts (System V gABI, x86-64 psABI).
struct Elf64_Ehdr {
  uint8_t e_ident[16];
  uint16_t e_type;
  uint16_t e_machine;
  uint32_t e_version;
  uint64_t e_entry;
  uint64_t e_phoff;
  uint64_t e_shoff;
  uint32_t e_flags;
  uint16_t e_ehsize;
  uint16_t e_phentsize;
  uint16_t e_phnum;
  uint16_t e_shentsize;
  uint16_t e_shnum;
  uint16_t e_shstrndx;
};
static_assert(sizeof(Elf64_Ehdr) == 64 && offsetof(Elf64_Ehdr, e_entry) == 24 &&
              offsetof(Elf64_Ehdr, e_phoff) == 32 && offsetof(Elf64_Ehdr, e_phentsize) == 54 &&
              offsetof(Elf64_Ehdr, e_phnum) == 56);

struct Elf64_Phdr {
  uint32_t p_type;
  uint32_t p_flags;
  uint64_t p_offset;
  uint64_t p_vaddr;
  uint64_t p_paddr;
  uint64_t p_filesz;
  uint64_t p_memsz;
  uint64_t p_align;
};
static_assert(sizeof(Elf64_Phdr) == 56 && offsetof(Elf64_Phdr, p_paddr) == 24 &&
              offsetof(Elf64_Phdr, p_memsz) == 40);

constexpr uint8_t kElfClass64 = 2;
constexpr uint8_t kElfData2Lsb = 1;
constexpr uint16_t kEtExec = 2;
constexpr uint16_t kEmX86_64 = 62;
constexpr uint32_t kPtLoad = 1;
constexpr uint32_t kPtInterp = 3;
constexpr uint32_t kPfX = 1;
constexpr uint32_t kPfW = 2;
constexpr uint16_t kMaxProgramHeaders = 512;

Error elfError(std::string rule, std::string message, std::optional<uint64_t> offset = {}) {
  std::optional<Location> loc;
  if (offset) {
    loc = Location{};
    loc->offset = offset;
  }
  return invalid("elf." + rule, std::move(message), loc);
}

}  // namespace

Result<ElfImage> parseElf(Bytes file, ElfOptions options) {
  if (file.size() < sizeof(Elf64_Ehdr)) {
    return elfError("truncated", "file of " + hex(file.size()) + " bytes is shorter than an ELF64 header");
  }
  IGVMKIT_ASSIGN_OR_RETURN(Elf64_Ehdr eh, readStruct<Elf64_Ehdr>(file, 0));
  if (eh.e_ident[0] != 0x7F || eh.e_ident[1] != 'E' || eh.e_ident[2] != 'L' || eh.e_ident[3] != 'F') {
    return elfError("magic", "not an ELF file", 0);
  }
  if (eh.e_ident[4] != kElfClass64 || eh.e_ident[5] != kElfData2Lsb) {
    return elfError("unsupported", "only 64-bit little-endian ELF files are supported (class " +
                                       hex(eh.e_ident[4]) + ", data " + hex(eh.e_ident[5]) + ")",
                    4);
  }
  if (eh.e_machine != kEmX86_64) {
    return elfError("unsupported", "machine " + hex(eh.e_machine) + " is not x86-64 (0x3e)", 18);
  }
  if (eh.e_type != kEtExec) {
    return elfError("unsupported",
                    "type " + hex(eh.e_type) + " is not ET_EXEC (0x2): link the payload static and "
                    "non-PIE",
                    16);
  }
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) {
    return elfError("unsupported", "e_phentsize " + hex(eh.e_phentsize) + " is not 0x38", 54);
  }
  if (eh.e_phnum == 0 || eh.e_phnum > kMaxProgramHeaders) {
    return elfError("segment", "e_phnum " + std::to_string(eh.e_phnum) + " is not in 1.." +
                                   std::to_string(kMaxProgramHeaders),
                    56);
  }
  ElfImage image;
  image.entry = eh.e_entry;
  uint64_t total = 0;
  for (uint16_t i = 0; i < eh.e_phnum; ++i) {
    const uint64_t ph_off = eh.e_phoff + uint64_t{i} * sizeof(Elf64_Phdr);
    if (eh.e_phoff > file.size() || ph_off < eh.e_phoff) {
      return elfError("truncated", "program header table at " + hex(eh.e_phoff) +
                                       " lies outside the file");
    }
    Result<Elf64_Phdr> ph = readStruct<Elf64_Phdr>(file, ph_off);
    if (!ph.ok()) {
      return elfError("truncated", "program header " + std::to_string(i) + " at " + hex(ph_off) +
                                       " runs past the end of the file (" + hex(file.size()) + ")",
                      ph_off);
    }
    const std::string name = "segment " + std::to_string(i);
    if (ph->p_type == kPtInterp) {
      return elfError("unsupported", name + " is PT_INTERP: the payload must be freestanding", ph_off);
    }
    if (ph->p_type != kPtLoad || ph->p_memsz == 0) {
      continue;
    }
    // The payload runs on an identity map, so its virtual addresses must be its physical ones.
    if (!options.physical && ph->p_vaddr != ph->p_paddr) {
      return elfError("unsupported", name + ": p_vaddr " + hex(ph->p_vaddr) + " differs from p_paddr " +
                                         hex(ph->p_paddr) + " (the payload runs identity mapped)",
                      ph_off);
    }
    if (ph->p_filesz > ph->p_memsz) {
      return elfError("segment", name + ": p_filesz " + hex(ph->p_filesz) + " exceeds p_memsz " +
                                     hex(ph->p_memsz),
                      ph_off);
    }
    if (ph->p_memsz > kElfMaxSegmentBytes) {
      return elfError("segment", name + ": p_memsz " + hex(ph->p_memsz) + " exceeds the limit " +
                                     hex(kElfMaxSegmentBytes),
                      ph_off);
    }
    if (ph->p_paddr >= kElfMaxAddress || ph->p_memsz > kElfMaxAddress - ph->p_paddr) {
      return elfError("segment", name + ": " + hex(ph->p_paddr) + " + " + hex(ph->p_memsz) +
                                     " reaches past physical address " + hex(kElfMaxAddress),
                      ph_off);
    }
    Result<Bytes> data = slice(file, ph->p_offset, ph->p_filesz);
    if (!data.ok()) {
      return elfError("truncated", name + ": file bytes " + hex(ph->p_offset) + " + " +
                                       hex(ph->p_filesz) + " exceed the file size " +
                                       hex(file.size()),
                      ph_off);
    }
    total += ph->p_memsz;  // each term is below 2^30, so 512 of them cannot wrap
    if (total > kElfMaxTotalBytes) {
      return elfError("segment", "segments total more than " + hex(kElfMaxTotalBytes) + " bytes",
                      ph_off);
    }
    ElfSegment seg;
    seg.gpa = ph->p_paddr;
    seg.mem_size = ph->p_memsz;
    seg.data = *data;
    seg.executable = (ph->p_flags & kPfX) != 0;
    seg.writable = (ph->p_flags & kPfW) != 0;
    image.segments.push_back(seg);
  }
  if (image.segments.empty()) {
    return elfError("segment", "no PT_LOAD segment with contents");
  }
  std::sort(image.segments.begin(), image.segments.end(),
            [](const ElfSegment& a, const ElfSegment& b) { return a.gpa < b.gpa; });
  for (size_t i = 1; i < image.segments.size(); ++i) {
    const ElfSegment& prev = image.segments[i - 1];
    const ElfSegment& cur = image.segments[i];
    if (cur.gpa < prev.gpa + prev.mem_size) {
      return elfError("overlap", "segments at " + hex(prev.gpa) + " (+" + hex(prev.mem_size) +
                                     ") and " + hex(cur.gpa) + " overlap");
    }
  }
  const bool entry_ok = std::any_of(image.segments.begin(), image.segments.end(), [&](const ElfSegment& s) {
    return s.executable && image.entry >= s.gpa && image.entry - s.gpa < s.mem_size;
  });
  if (!entry_ok) {
    return elfError("entry", "entry point " + hex(image.entry) + " lies in no executable segment", 24);
  }
  return image;
}

}  // namespace igvmkit::builder
