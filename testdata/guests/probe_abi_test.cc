// The probe's ABI header and build products: the checksum against published FNV-1a vectors, the
// ELF's entry point, machine and load address, and the PVH build's Xen entry note.
#include "testdata/guests/probe_abi.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/file.h"

namespace igvmkit {
namespace {

uint32_t fnv(std::string_view s) {
  return probe_fnv1a(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Test vectors of the FNV reference implementation (Fowler/Noll/Vo, 32-bit FNV-1a).
TEST(ProbeAbi, ChecksumIsFnv1a32) {
  EXPECT_EQ(fnv(""), 0x811c9dc5u);
  EXPECT_EQ(fnv("a"), 0xe40c292cu);
  EXPECT_EQ(fnv("foobar"), 0xbf9cf968u);
}

std::string runfile(const char* name) {
  const char* dir = std::getenv("TEST_SRCDIR");
  return std::string(dir ? dir : ".") + "/igvmkit/testdata/guests/" + name;
}

TEST(ProbeImage, ElfIsX86_64EnteredAtTheLoadAddress) {
  Result<ByteVector> elf = readFile(runfile("probe.elf"));
  ASSERT_TRUE(elf.ok()) << elf.error().describe();
  Result<Elf64_Ehdr> ehdr = readStruct<Elf64_Ehdr>(*elf, 0);
  ASSERT_TRUE(ehdr.ok());
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(ehdr->e_ident), 4),
            "\x7f"
            "ELF");
  EXPECT_EQ(ehdr->e_ident[EI_CLASS], ELFCLASS64);
  EXPECT_EQ(ehdr->e_machine, EM_X86_64);
  EXPECT_EQ(ehdr->e_type, ET_EXEC);
  EXPECT_EQ(ehdr->e_entry, PROBE_LOAD_GPA);
  // The first loadable segment starts at the load address and holds the flat image's bytes.
  Result<ByteVector> flat = readFile(runfile("probe.bin"));
  ASSERT_TRUE(flat.ok()) << flat.error().describe();
  bool found = false;
  for (unsigned i = 0; i < ehdr->e_phnum; ++i) {
    Result<Elf64_Phdr> ph = readStruct<Elf64_Phdr>(*elf, ehdr->e_phoff + i * sizeof(Elf64_Phdr));
    ASSERT_TRUE(ph.ok());
    if (ph->p_type != PT_LOAD || ph->p_filesz == 0) {
      continue;
    }
    EXPECT_EQ(ph->p_paddr, PROBE_LOAD_GPA);
    Result<Bytes> seg = slice(*elf, ph->p_offset, ph->p_filesz);
    ASSERT_TRUE(seg.ok());
    ASSERT_EQ(seg->size(), flat->size());
    EXPECT_TRUE(std::equal(seg->begin(), seg->end(), flat->begin()));
    EXPECT_LE(flat->size(), 4096u) << "the probe should stay tiny";
    found = true;
    break;
  }
  EXPECT_TRUE(found);
}

// Xen's PVH ABI (xen/include/public/elfnote.h): the loader enters the 32-bit address in the note
// of type XEN_ELFNOTE_PHYS32_ENTRY (18), name "Xen", in a PT_NOTE segment.
TEST(ProbeImage, PvhElfHasAPhys32EntryNoteIntoItsCode) {
  Result<ByteVector> elf = readFile(runfile("probe_pvh.elf"));
  ASSERT_TRUE(elf.ok()) << elf.error().describe();
  Result<Elf64_Ehdr> ehdr = readStruct<Elf64_Ehdr>(*elf, 0);
  ASSERT_TRUE(ehdr.ok());
  EXPECT_EQ(ehdr->e_machine, EM_X86_64);
  std::optional<uint64_t> entry;
  Elf64_Phdr text{};
  for (unsigned i = 0; i < ehdr->e_phnum; ++i) {
    Result<Elf64_Phdr> ph = readStruct<Elf64_Phdr>(*elf, ehdr->e_phoff + i * sizeof(Elf64_Phdr));
    ASSERT_TRUE(ph.ok());
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) != 0) {
      text = *ph;
    }
    if (ph->p_type != PT_NOTE) {
      continue;
    }
    EXPECT_EQ(ph->p_align, 4u) << "QEMU pads note names to the segment alignment";
    for (uint64_t off = ph->p_offset; off + sizeof(Elf64_Nhdr) <= ph->p_offset + ph->p_filesz;) {
      Result<Elf64_Nhdr> note = readStruct<Elf64_Nhdr>(*elf, off);
      ASSERT_TRUE(note.ok());
      uint64_t name = off + sizeof(Elf64_Nhdr);
      uint64_t desc = name + ((note->n_namesz + 3) & ~3u);
      Result<Bytes> name_bytes = slice(*elf, name, note->n_namesz);
      ASSERT_TRUE(name_bytes.ok());
      if (note->n_type == 18 && note->n_namesz == 4 &&
          std::memcmp(name_bytes->data(), "Xen", 4) == 0) {
        ASSERT_EQ(note->n_descsz, 8u);
        Result<uint64_t> value = readStruct<uint64_t>(*elf, desc);
        ASSERT_TRUE(value.ok());
        entry = *value;
      }
      off = desc + ((note->n_descsz + 3) & ~3u);
    }
  }
  ASSERT_TRUE(entry.has_value()) << "no XEN_ELFNOTE_PHYS32_ENTRY note";
  EXPECT_EQ(*entry, ehdr->e_entry);
  EXPECT_EQ(text.p_paddr, PROBE_LOAD_GPA);
  EXPECT_GT(*entry, text.p_paddr) << "the 64-bit entry stays first; the PVH entry follows";
  EXPECT_LT(*entry, text.p_paddr + text.p_filesz);
  // 32-bit code: the entry starts with cli (0xfa), cld (0xfc).
  Result<Bytes> code = slice(*elf, text.p_offset + (*entry - text.p_paddr), 2);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(static_cast<uint8_t>((*code)[0]), 0xfa);
  EXPECT_EQ(static_cast<uint8_t>((*code)[1]), 0xfc);
}

}  // namespace
}  // namespace igvmkit
