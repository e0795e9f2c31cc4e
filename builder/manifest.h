// builder/manifest.h: the TOML manifest `igvmkit build` reads, as a validated value.
//
// parseManifest() checks everything that can be checked without reading the files the manifest
// names: every key is known, every value has the right type and range, addresses are page
// aligned, ranges do not overlap. Errors carry the line and column of the offending key or value
// and a stable rule id ("manifest.unknown_key", "manifest.type", ...). Paths are resolved against
// `base_dir` (the manifest's directory) but not opened; build() reads them.
//
//   IGVMKIT_ASSIGN_OR_RETURN(std::string text, readTextFile(path));
//   IGVMKIT_ASSIGN_OR_RETURN(builder::Manifest m, builder::parseManifest(text, path, dirOf(path)));
//   if (m.snp) { ... m.snp->policy ... }
//
// The schema is documented with examples in builder/README.md; testdata/manifests/ has samples.
//
// Rule ids: manifest.syntax (not TOML), manifest.unknown_key, manifest.type (wrong TOML type),
// manifest.missing_key, manifest.value (out of range or not an allowed word), manifest.alignment,
// manifest.overlap, manifest.conflict (keys that exclude each other), manifest.no_platform,
// manifest.boot_component (not exactly one of linux / firmware / payload).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "measure/ovmf_launch.h"
#include "measure/platform.h"

namespace igvmkit::builder {

// Platforms and SNP host models are measure's (measure/platform.h names them, and converts to
// igvm::PlatformType); a manifest targets the first four platforms, in this order (the order of
// the file's compatibility bits).
using measure::HostModel;
using measure::Platform;
using measure::platformName;
inline constexpr std::array<Platform, 4> kManifestPlatforms = {Platform::kNative, Platform::kSnp,
                                                               Platform::kTdx, Platform::kVbs};

// A set of platforms; empty means "every platform the manifest targets".
using PlatformList = std::vector<Platform>;

// SEV features bits (igvm-format.md §5.2).
inline constexpr uint64_t kSevFeatureSnp = 1ull << 0;
inline constexpr uint64_t kSevFeatureVtom = 1ull << 1;
inline constexpr uint64_t kSevFeatureReflectVc = 1ull << 2;
inline constexpr uint64_t kSevFeatureRestrictedInjection = 1ull << 3;
inline constexpr uint64_t kSevFeatureAlternateInjection = 1ull << 4;
inline constexpr uint64_t kSevFeatureDebugSwap = 1ull << 5;

// SNP guest policy bits (igvm-format.md §2.6).
inline constexpr uint64_t kSnpPolicySmt = 1ull << 16;
inline constexpr uint64_t kSnpPolicyReservedOne = 1ull << 17;
inline constexpr uint64_t kSnpPolicyMigrateMa = 1ull << 18;
inline constexpr uint64_t kSnpPolicyDebug = 1ull << 19;
inline constexpr uint64_t kSnpPolicySingleSocket = 1ull << 20;

// Optional ID block: the keys sign the launch digest at build time (sign/ does the signing).
struct SnpIdBlock {
  std::string id_key;  // key spec (sign/signer.h): a PEM path (resolved), pkcs11:URI or exec:CMD
  std::optional<std::string> author_key;     // the same forms
  std::optional<std::string> id_pubkey;      // PEM path (resolved): required with exec:
  std::optional<std::string> author_pubkey;  // PEM path (resolved)
  std::vector<uint8_t> family_id;         // 16 bytes (hex in the manifest), default zeros
  std::vector<uint8_t> image_id;          // 16 bytes, default zeros
  uint32_t guest_svn = 0;
};

struct SnpSettings {
  uint64_t policy = kSnpPolicySmt | kSnpPolicyReservedOne;  // 0x30000
  uint64_t sev_features = kSevFeatureSnp;                   // bit 0 always set
  uint64_t shared_gpa_boundary = 0;  // platform header; with the vTOM feature also the VMSA vTOM
  HostModel host = HostModel::kKvm;  // the measurement's host model
  uint32_t vcpus = 1;                // vCPUs at launch (KVM measures one VMSA each)
  uint64_t vmsa_gpa = 0;             // resolved: kvm -> 0xFFFFFFFFF000 (required there)
  uint8_t c_bit = 51;                // encryption bit set in page-table entries
  std::optional<SnpIdBlock> id_block;
  // [firmware] launches (vp.mode = "reset"): what QEMU/KVM put in the VMSAs it creates
  // (measure/ovmf_launch.h). vcpu_type resolves to its signature (RDX at reset).
  std::optional<uint32_t> vcpu_sig;
  measure::VmmType vmm = measure::VmmType::kQemu;
};

struct TdxSettings {
  bool debug = false;           // TdxPolicy bit 0
  bool sept_ve_disable = true;  // TdxPolicy bit 1
  bool migratable = false;      // TdxPolicy bit 2
  uint64_t shared_gpa_boundary = 0;
  // The IGVM GUEST_POLICY value (IGVM's TdxPolicy encoding, igvm-format.md §2.6).
  uint64_t policy() const;
};

struct VbsSettings {
  uint8_t vtl = 0;     // highest VTL, 0 or 2; the VP context is loaded into this VTL
  bool debug = false;  // VBS_MEASUREMENT policy flag (debug allowed)
};

struct NativeSettings {};

struct MemoryRange {
  uint64_t base = 0;
  uint64_t size = 0;
  uint64_t end() const { return base + size; }
  bool operator==(const MemoryRange&) const = default;
};

// Guest physical memory: RAM ranges (sorted, disjoint, page aligned) and MMIO gaps.
struct MemoryLayout {
  std::vector<MemoryRange> ram;
  std::vector<MemoryRange> mmio;
  uint64_t ramBytes() const;
  bool isRam(uint64_t gpa, uint64_t size) const;  // [gpa, gpa+size) inside one RAM range
};

// Linux bzImage direct boot (64-bit boot protocol).
struct LinuxComponent {
  std::string kernel;                   // bzImage or uncompressed ELF vmlinux path
  std::optional<std::string> initrd;    // initramfs path
  std::string cmdline;                  // baked into a measured page
  std::optional<uint64_t> load_address;  // default: the kernel's pref_address
};

// A raw firmware image copied to a GPA range; without `gpa` it ends at 4 GiB (OVMF-style flash).
struct FirmwareComponent {
  std::string image;
  // Put in front of `image` (OVMF_VARS.fd before OVMF_CODE.fd makes the unified image a TDVF's
  // metadata counts from, what QEMU takes as -bios).
  std::optional<std::string> vars;
  std::optional<uint64_t> gpa;
  // SNP: QEMU's kernel hashes (-kernel/-initrd/-append with kernel-hashes=on) in the firmware's
  // SNP_KERNEL_HASHES page. The files are hashed, not loaded.
  std::optional<std::string> kernel;
  std::optional<std::string> initrd;
  std::optional<std::string> cmdline;
};

// A component the loader may move (IGVM RELOCATABLE_REGION, igvm-format.md §2.6): the region
// covers the component's pages and may go to any base that is a multiple of `alignment` with
// [base, base + size) inside [minimum, maximum).
struct Relocation {
  uint64_t alignment = 0;  // nonzero 4 KiB multiple; the component must start on it
  uint64_t minimum = 0;    // multiples of alignment
  uint64_t maximum = 0;
  bool apply_rip = true;    // the loader adds the delta to RIP (the entry must be inside)
  bool apply_gdtr = false;  // ... and to GDTR.base (the GDT must be inside)
};

// A freestanding x86-64 ELF (ET_EXEC): PT_LOAD segments at their physical addresses, entered in
// 64-bit mode at e_entry.
struct PayloadComponent {
  std::string elf;
  std::optional<Relocation> relocatable;  // [payload.relocatable]
};

enum class PageDataType { kNormal, kSecrets, kCpuid, kCpuidXf };  // IGVM data_type 0..3

// Bytes (from a file, or zeros) at a GPA, with IGVM page-data flags and type.
struct DataBlob {
  std::optional<std::string> file;  // absent: `size` bytes of zeros
  uint64_t gpa = 0;
  std::optional<uint64_t> size;     // required without file; with a file, at least its size
  bool unmeasured = false;
  bool shared = false;
  PageDataType type = PageDataType::kNormal;
  PlatformList platforms;
};

// Values the loader writes into a parameter area (IGVM parameter types, igvm-format.md §4.2).
enum class ParameterKind {
  kVpCount,          // 0x307, u32
  kSrat,             // 0x308
  kMadt,             // 0x309
  kMmioRanges,       // 0x30A, 2 x 16 bytes
  kMemoryMap,        // 0x30C, 24-byte entries
  kCommandLine,      // 0x30E, NUL-terminated
  kSlit,             // 0x30F
  kPptt,             // 0x310
  kDeviceTree,       // 0x312
  kEnvironmentInfo,  // 0x313, u32
};
std::string_view parameterName(ParameterKind k);  // the manifest key, e.g. "memory_map"

struct Parameter {
  ParameterKind kind;
  uint32_t byte_offset = 0;
};

struct ParameterArea {
  uint64_t gpa = 0;
  uint64_t size = 0;  // page multiple
  std::vector<Parameter> parameters;  // sorted by kind
  PlatformList platforms;
};

struct RequiredMemory {
  uint64_t gpa = 0;
  uint32_t size = 0;
  bool vtl2_protectable = false;
};

// How the boot processor starts.
enum class EntryMode {
  kLongMode,   // 64-bit mode with generated identity page tables and GDT (linux, payload)
  kRegisters,  // exactly the registers given (anything not given is zero / architectural)
  kReset,      // no VP context: the architectural reset state (firmware)
};

// The registers a manifest can set; these are the fields of IGVM's native x64 context
// (igvm-format.md §5.4).
enum class Register {
  kRax, kRcx, kRdx, kRbx, kRsp, kRbp, kRsi, kRdi,
  kR8, kR9, kR10, kR11, kR12, kR13, kR14, kR15,
  kRip, kRflags, kCr0, kCr3, kCr4, kEfer,
  kGdtrBase, kGdtrLimit, kIdtrBase, kIdtrLimit,
  kCodeSelector, kCodeAttributes, kDataSelector, kDataAttributes,
};
std::string_view registerName(Register r);  // "rax", ..., "gdtr_base", "code_selector"

struct VpSettings {
  EntryMode mode = EntryMode::kLongMode;
  // Long mode: the identity-mapped range [0, identity_map_size); 0 = 4 GiB or the top of RAM,
  // whichever is larger, rounded up to 1 GiB.
  uint64_t identity_map_size = 0;
  // Long mode: overrides of the generated state; registers mode: the whole state.
  std::map<Register, uint64_t> registers;
  // Long mode: declare the generated (non-SNP) page tables a PAGE_TABLE_RELOCATION region, with
  // this many free pages after them for the loader's new tables.
  bool page_table_relocation = false;
  uint32_t page_table_free_pages = 8;
};

struct Manifest {
  std::string source_name;  // for messages
  std::optional<NativeSettings> native;
  std::optional<SnpSettings> snp;
  std::optional<TdxSettings> tdx;
  std::optional<VbsSettings> vbs;
  MemoryLayout memory;
  std::optional<LinuxComponent> linux_boot;
  std::optional<FirmwareComponent> firmware;
  std::optional<PayloadComponent> payload;
  std::vector<DataBlob> data;
  std::vector<ParameterArea> parameter_areas;
  std::vector<RequiredMemory> required_memory;
  VpSettings vp;

  // The targeted platforms in a fixed order: native, snp, tdx, vbs.
  PlatformList platforms() const;
  // Every file build() reads (resolved paths): keys, kernel, initrd, firmware, payload, data.
  std::vector<std::string> inputFiles() const;
};

// Parses and validates a manifest. `source_name` is used in messages only; relative paths in the
// manifest are resolved against `base_dir` ("" = the current directory).
Result<Manifest> parseManifest(std::string_view text, std::string_view source_name,
                               std::string_view base_dir);

// Parses a size string: base/size.h's grammar (the one the CLI's --memory uses too).
Result<uint64_t> parseSize(std::string_view text);

}  // namespace igvmkit::builder
