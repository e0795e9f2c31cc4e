// igvm/gpa.h: the guest-physical addresses a platform can use, and the one check of a GPA range
// against them that `plan` (every backend), `measure` (every platform) and `check` (a warning)
// share.
//
//   IGVMKIT_RETURN_IF_ERROR(igvm::checkGpaRange(igvm::PlatformType::kSevSnp, "page data", gpa,
//                                               igvm::kPageSize4K));
//   for (const Error& w : igvm::gpaWarnings(file)) { ... }   // `igvmkit check`
//
// Widths (the most permissive any real CPU of the platform offers, so a launchable file is never
// refused; a GPA at or past it can be launched nowhere):
// * NATIVE, VSM_ISOLATION: 52 bits, MAXPHYADDR's architectural maximum (CPUID 0x80000008 EAX[7:0]
//   is at most 52: Intel SDM vol. 3A §4.1.4, AMD APM vol. 2 §5.3.1). CCA (AArch64) too: 52 bits
//   is FEAT_LPA's maximum.
// * SEV_SNP, SEV, SEV_ES: 51 bits, below the C-bit. The C-bit is CPUID 0x8000001F EBX[5:0]; it is
//   51 on Milan, Genoa and Turin (QEMU's sev-snp-guest cbitpos=51 in
//   docs/system/i386/amd-memory-encryption.rst), and a guest cannot address a page whose GPA has
//   the C-bit or anything above it set: in its page tables that bit means "encrypted".
// * TDX: 51 bits, below GPA.SHARED, the top bit of the TD's GPA width (GPAW 52 -> bit 51; GPAW 48
//   -> bit 47). Linux reads GPAW from TDG.VP.INFO and uses BIT(gpa_width - 1) as the shared bit
//   (arch/x86/coco/tdx/tdx.c); private pages, which is what a launch adds, lie below it.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "igvm/defs.h"
#include "igvm/file.h"

namespace igvmkit::igvm {

struct GpaWidth {
  uint8_t bits = 52;        // usable GPAs are below 2^bits
  std::string_view reason;  // why, for messages: "the c-bit is bit 51"
};

GpaWidth gpaWidth(PlatformType platform);

// [gpa, gpa + size) on `platform`: "gpa.wrap" when it runs past 2^64 (a 4 KiB page at
// 0xFFFFFFFFFFFFF000 ends at 2^64 and does not wrap; a 2 MiB page there does), else "gpa.width"
// when it ends above 2^bits. `what` names the object ("page data", "parameter area", "vmsa").
// Both are kInvalidInput errors without a location (callers attach the header's).
Status checkGpaRange(PlatformType platform, std::string_view what, uint64_t gpa, uint64_t size);

// checkGpaRange() of what a directive occupies: a PAGE_DATA's page (4 KiB or 2 MiB), a
// PARAMETER_INSERT's area (its size from `area_sizes`, index -> bytes as declared so far), a
// VP_CONTEXT's page; OK for every other header.
Status checkDirectiveGpa(PlatformType platform, const Header& h,
                         const std::map<uint32_t, uint64_t>& area_sizes);

// checkDirectiveGpa() for every directive whose mask has `platform_bit`, against that platform's
// width; the first error, located at its header. What `measure` refuses a file for.
Status checkPlatformGpas(const File& file, uint32_t platform_bit);

// checkDirectiveGpa() for every PAGE_DATA, PARAMETER_INSERT and VP_CONTEXT of `file`, against each
// declared platform its compatibility mask names; one warning per header (the first platform that
// refuses it), located at the header. What `igvmkit check` reports: the format allows such a file,
// but no platform can launch it.
std::vector<Error> gpaWarnings(const File& file);

}  // namespace igvmkit::igvm
