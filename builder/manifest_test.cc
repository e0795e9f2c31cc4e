#include "builder/manifest.h"

#include <gtest/gtest.h>

#include <cstring>
#include <span>

#include "base/file.h"
#include "base/testing/matchers.h"
#include "builder/layout.h"

namespace igvmkit::builder {
namespace {

using ::igvmkit::testing::HasRule;

// A valid base every error test extends; errors are then located in the added lines.
constexpr std::string_view kBase = R"(
[platform.native]

[memory]
size = "64M"

[payload]
elf = "probe"
)";

Result<Manifest> parse(std::string_view text) { return parseManifest(text, "test.toml", "/m"); }

struct ErrorCase {
  std::string_view name;
  std::string text;
  std::string_view rule;
  uint32_t line;
  uint32_t column;
  std::string_view message;
};

// Each case fails with its rule at its line and column, an invalid-input error, with its message
// when one is given.
void expectErrors(std::span<const ErrorCase> cases) {
  for (const ErrorCase& c : cases) {
    Result<Manifest> r = parse(c.text);
    ASSERT_THAT(r, HasRule(c.rule)) << c.name;
    ASSERT_TRUE(r.error().location.has_value()) << c.name;
    EXPECT_EQ(r.error().location->line, c.line) << c.name << ": " << r.error().describe();
    EXPECT_EQ(r.error().location->column, c.column) << c.name << ": " << r.error().describe();
    if (!c.message.empty()) {
      EXPECT_EQ(r.error().message, c.message) << c.name;
    }
    EXPECT_EQ(r.error().code, Code::kInvalidInput) << c.name;
  }
}

TEST(Manifest, ErrorsCarryRuleLineAndColumn) {
  const std::string base(kBase);
  const ErrorCase cases[] = {
      {"syntax", "[platform.native]\nx = = 1\n", "manifest.syntax", 2, 5, ""},
      {"unknown_top", "colour = 1\n" + base, "manifest.unknown_key", 1, 1,
       "unknown key 'colour' at the top level"},
      {"unknown_in_table", "[platform.snp]\npolicy = 0x30000\nplicy = 1\n[memory]\nsize = 1\n",
       "manifest.unknown_key", 3, 1, "unknown key 'plicy' in [platform.snp]"},
      {"unknown_platform", "[platform.sgx]\n[memory]\nsize = 4096\n", "manifest.unknown_key", 1, 11,
       "unknown key 'sgx' in [platform]"},
      {"wrong_type", "[platform.snp]\nvcpus = \"two\"\n", "manifest.type", 2, 9,
       "'platform.snp.vcpus' must be an integer, not a string"},
      {"bool_type", base + "[vp]\nmode = true\n", "manifest.type", 10, 8,
       "'vp.mode' must be a string, not a boolean"},
      {"bad_word", base + "[vp]\nmode = \"real\"\n", "manifest.value", 10, 8,
       "'vp.mode' = \"real\" is not one of long, registers, reset"},
      {"policy_bit17", "[platform.snp]\npolicy = 0x10000\n", "manifest.value", 2, 10,
       "'platform.snp.policy' 0x10000 must set bit 17 (0x20000)"},
      {"kvm_vmsa_gpa", "[platform.snp]\nvmsa_gpa = 0x1000\n", "manifest.conflict", 2, 12,
       "'platform.snp.vmsa_gpa' must be 0xfffffffff000 when host = \"kvm\""},
      {"no_platform", "[memory]\nsize = 4096\n", "manifest.no_platform", 1, 1, ""},
      {"missing_memory", "[platform.native]\n[payload]\nelf = \"x\"\n", "manifest.missing_key", 1, 1,
       "missing key 'memory'"},
      {"missing_elf", "[platform.native]\n[memory]\nsize = \"1M\"\n[payload]\n",
       "manifest.missing_key", 4, 1, "missing key 'payload.elf'"},
      {"two_components", base + "[firmware]\nimage = \"fw\"\n", "manifest.boot_component", 1, 1,
       "give at most one of [linux], [firmware] and [payload]"},
      {"unaligned_data", base + "[[data]]\ngpa = 0x100001\nsize = 4096\n", "manifest.alignment", 10,
       7, "'data.gpa' 0x100001 is not page aligned"},
      {"bad_size", "[platform.native]\n[memory]\nsize = \"12Q\"\n", "manifest.value", 3, 8, ""},
      {"data_overlaps_boot", base + "[[data]]\ngpa = 0x2000\nsize = 4096\n", "manifest.overlap", 9,
       1, "[[data]] at 0x2000 overlaps the boot structures at [0x1000, 0x80000)"},
      {"data_overlap", base + "[[data]]\ngpa = 0x100000\nsize = 0x2000\n[[data]]\ngpa = 0x101000\nsize = 4096\n",
       "manifest.overlap", 12, 1, "[[data]] at 0x101000 overlaps [[data]] at 0x100000"},
      {"secrets_not_snp", base + "[[data]]\ngpa = 0x100000\nsize = 4096\ntype = \"secrets\"\n",
       "manifest.conflict", 12, 8, ""},
      {"platform_not_targeted",
       base + "[[data]]\ngpa = 0x100000\nsize = 4096\nplatforms = [\"tdx\"]\n", "manifest.value",
       12, 13, "platform \"tdx\" is listed but has no [platform.tdx] table"},
      {"param_offset", base + "[[parameter_area]]\ngpa = 0x100000\nvp_count = 0xffe\n",
       "manifest.value", 11, 12, ""},
      {"param_empty", base + "[[parameter_area]]\ngpa = 0x100000\n", "manifest.missing_key", 9, 1,
       ""},
      // Issue 12 item 7: two parameters at one offset of an area; a C-bit above bit 51 (no
      // physical address bit); a NUL inside a path (open() would read another file).
      {"param_same_offset",
       base + "[[parameter_area]]\ngpa = 0x100000\nvp_count = 0\ncommand_line = 0\n",
       "manifest.overlap", 12, 16,
       "'parameter_area.command_line' offset 0x0 is already 'parameter_area.vp_count''s"},
      {"c_bit_52", "[platform.snp]\nc_bit = 52\n", "manifest.value", 2, 9,
       "'platform.snp.c_bit' must be between 32 and 51"},
      {"c_bit_63", "[platform.snp]\nc_bit = 63\n", "manifest.value", 2, 9,
       "'platform.snp.c_bit' must be between 32 and 51"},
      {"nul_in_path",
       "[platform.native]\n[memory]\nsize = \"1M\"\n[payload]\nelf = \"p\\u0000q\"\n",
       "manifest.value", 5, 7, "'payload.elf' contains a NUL character"},
      {"reg_range", base + "[vp.registers]\ngdtr_limit = 0x10000\n", "manifest.value", 10, 14,
       "'vp.registers.gdtr_limit' = 65536 is out of range 0..0xffff"},
      {"reg_unknown", base + "[vp.registers]\nxmm0 = 1\n", "manifest.unknown_key", 10, 1,
       "unknown key 'xmm0' in [vp.registers]"},
      // An SNP [firmware] launch under QEMU (the default vmm) needs the vCPU signature.
      {"reset_snp", "[platform.snp]\n[memory]\nsize = \"1M\"\n[firmware]\nimage = \"f\"\n",
       "manifest.missing_key", 1, 1, ""},
      {"registers_need_rip", "[platform.native]\n[memory]\nsize = \"1M\"\n[vp]\nmode = \"registers\"\n",
       "manifest.missing_key", 4, 1, "vp.mode = \"registers\" needs 'vp.registers.rip'"},
      {"ram_overlap",
       "[platform.native]\n[memory]\nram = [{ base = 0, size = 0x2000 }, { base = 0x1000, size = 0x1000 }]\n",
       "manifest.overlap", 3, 7, ""},
      {"low_ram_missing", "[platform.native]\n[memory]\nram = [{ base = 0x100000, size = \"1M\" }]\n"
                          "[payload]\nelf = \"p\"\n",
       "manifest.value", 2, 1, ""},
      {"array_element", "data = [1]\n" + base, "manifest.type", 1, 9,
       "elements of 'data' must be tables, not an integer"},
      {"vtom_on_kvm", "[platform.snp]\nsev_features = [\"vtom\"]\nshared_gpa_boundary = \"64G\"\n",
       "manifest.conflict", 2, 16, ""},
      {"vbs_vtl1", "[platform.vbs]\nvtl = 1\n", "manifest.value", 2, 7, "'platform.vbs.vtl' must be 0 or 2"},
      {"reloc_alignment", base + "[payload.relocatable]\nalignment = 0x800\nmaximum = \"1G\"\n",
       "manifest.alignment", 10, 13,
       "'payload.relocatable.alignment' 0x800 must be a nonzero multiple of 0x1000"},
      {"reloc_minimum", base + "[payload.relocatable]\nalignment = 0x100000\nminimum = 0x1000\n"
       "maximum = \"1G\"\n", "manifest.alignment", 11, 11,
       "'payload.relocatable.minimum' 0x1000 is not a multiple of the alignment 0x100000"},
      {"reloc_max_below_min", base + "[payload.relocatable]\nalignment = 0x100000\n"
       "minimum = \"2M\"\nmaximum = \"1M\"\n", "manifest.value", 12, 11,
       "'payload.relocatable.maximum' 0x100000 must be above minimum 0x200000"},
      {"reloc_needs_vbs", base + "[payload.relocatable]\nalignment = 0x100000\nmaximum = \"1G\"\n",
       "manifest.conflict", 1, 1,
       "relocation needs [platform.vbs] with vtl = 0 (IGVM relocation headers must be followed by "
       "a VBS VP context)"},
  };
  expectErrors(cases);
}

// Every error that names a key and points at its value (TableReader's typed getters, badKey() and
// its users), message by message: the text, the key path and the position are what users grep
// for.
TEST(Manifest, KeyErrorsNameTheKeyAndPointAtItsValue) {
  const std::string base(kBase);
  const std::string snp = "[platform.snp]\n";
  const std::string mem = "[platform.native]\n[memory]\nsize = \"64M\"\n";
  const std::string id = snp + "[platform.snp.id_block]\nid_key = \"k\"\n";
  const ErrorCase cases[] = {
      {"memory_size", "[platform.native]\n[memory]\nsize = 0x1001\n", "manifest.alignment", 3, 8,
       "'memory.size' 0x1001 must be a nonzero page multiple"},
      {"negative_size", "[platform.native]\n[memory]\nsize = -1\n", "manifest.value", 3, 8,
       "'memory.size' must not be negative"},
      {"linux_cmdline_nul", mem + "[linux]\nkernel = \"k\"\ncmdline = \"a\\u0000b\"\n",
       "manifest.value", 6, 11, "'linux.cmdline' contains a NUL character"},
      {"linux_cmdline_long",
       mem + "[linux]\nkernel = \"k\"\ncmdline = \"" +
           std::string(layout::kCommandLineMaxBytes, 'x') + "\"\n",
       "manifest.value", 6, 11, "'linux.cmdline' is 4096 bytes; at most 4095 fit"},
      {"linux_load_address", mem + "[linux]\nkernel = \"k\"\nload_address = 0x1000\n",
       "manifest.value", 6, 16,
       "'linux.load_address' 0x1000 must be page aligned and at least "
       "0x100000"},
      {"firmware_gpa", mem + "[firmware]\nimage = \"f\"\ngpa = 0x1001\n", "manifest.alignment", 6,
       7, "'firmware.gpa' 0x1001 is not page aligned"},
      {"firmware_cmdline_nul",
       mem + "[firmware]\nimage = \"f\"\nkernel = \"k\"\ncmdline = "
             "\"a\\u0000\"\n",
       "manifest.value", 7, 11, "'firmware.cmdline' contains a NUL character"},
      {"empty_path", mem + "[payload]\nelf = \"\"\n", "manifest.value", 5, 7,
       "'payload.elf' must not be empty"},
      {"data_size", base + "[[data]]\ngpa = 0x100000\nsize = 0\n", "manifest.value", 11, 8,
       "'data.size' 0x0 must be in 1..0x100000000 and not wrap"},
      {"param_gpa", base + "[[parameter_area]]\ngpa = 0x100001\nvp_count = 0\n",
       "manifest.alignment", 10, 7, "'parameter_area.gpa' 0x100001 is not page aligned"},
      {"param_size", base + "[[parameter_area]]\ngpa = 0x100000\nsize = 0x1001\nvp_count = 0\n",
       "manifest.alignment", 11, 8, "'parameter_area.size' 0x1001 must be a nonzero page multiple"},
      {"param_size_big",
       base + "[[parameter_area]]\ngpa = 0x100000\nsize = 0x2000000\nvp_count "
              "= 0\n",
       "manifest.value", 11, 8, "'parameter_area.size' 0x2000000 exceeds 0x1000000"},
      {"param_offset", base + "[[parameter_area]]\ngpa = 0x100000\nvp_count = 0xffe\n",
       "manifest.value", 11, 12,
       "'parameter_area.vp_count' offset 0xffe leaves less than 4 bytes in an "
       "area of 0x1000"},
      {"identity_map_size", base + "[vp]\nidentity_map_size = 0x1000\n", "manifest.alignment", 10,
       21, "'vp.identity_map_size' 0x1000 must be a nonzero 2 MiB multiple"},
      {"identity_map_big", base + "[vp]\nidentity_map_size = \"1024G\"\n", "manifest.value", 10, 21,
       "'vp.identity_map_size' 0x10000000000 needs more page tables than fit"},
      {"register_attributes", base + "[vp.registers]\ncode_attributes = 0x0f00\n", "manifest.value",
       10, 19, "'vp.registers.code_attributes' 0xf00 sets bits 11:8"},
      {"policy_reserved", snp + "policy = 0x220000\n", "manifest.value", 2, 10,
       "'platform.snp.policy' 0x220000 sets reserved bits above 20"},
      {"sev_features_bits", snp + "sev_features = 0x400\n", "manifest.value", 2, 16,
       "'platform.snp.sev_features' 0x400 sets unknown bits"},
      {"snp_boundary", snp + "shared_gpa_boundary = 0x1001\n", "manifest.alignment", 2, 23,
       "'platform.snp.shared_gpa_boundary' 0x1001 is not page aligned"},
      {"snp_vcpus", snp + "vcpus = 0\n", "manifest.value", 2, 9,
       "'platform.snp.vcpus' must be at least 1"},
      {"vmsa_gpa", snp + "host = \"mshv\"\nvmsa_gpa = 0x1001\n", "manifest.alignment", 3, 12,
       "'platform.snp.vmsa_gpa' 0x1001 is not page aligned"},
      {"family_id", id + "family_id = \"00\"\n", "manifest.value", 4, 13,
       "'platform.snp.id_block.family_id' must be 32 hex digits (16 bytes)"},
      {"author_key_empty", id + "author_key = \"\"\n", "manifest.value", 4, 14,
       "'platform.snp.id_block.author_key' must not be empty"},
      {"id_pubkey_empty", id + "id_pubkey = \"\"\n", "manifest.value", 4, 13,
       "'platform.snp.id_block.id_pubkey' must not be empty"},
      {"author_pubkey_alone", id + "author_pubkey = \"p\"\n", "manifest.conflict", 4, 17,
       "'platform.snp.id_block.author_pubkey' needs author_key"},
      {"table_type", "platform = 1\n", "manifest.type", 1, 12,
       "'platform' must be a table, not an integer"},
      {"table_array_type", "data = 1\n" + base, "manifest.type", 1, 8,
       "'data' must be an array of tables, not an integer"},
      {"string_type", mem + "[payload]\nelf = 1\n", "manifest.type", 5, 7,
       "'payload.elf' must be a string, not an integer"},
      {"bool_type", base + "[[data]]\ngpa = 0x100000\nsize = 4096\nshared = 1\n", "manifest.type",
       12, 10, "'data.shared' must be a boolean, not an integer"},
      {"tdx_boundary", "[platform.tdx]\nshared_gpa_boundary = 0x1001\n", "manifest.alignment", 2,
       23, "'platform.tdx.shared_gpa_boundary' 0x1001 is not page aligned"},
  };
  expectErrors(cases);
}

// toml++ 3.3 has undefined behaviour on U+FC06..U+FEFE; the parser refuses them up front.
TEST(Manifest, RefusesCharactersTomlMishandles) {
  Result<Manifest> r = parse("# ok \xe4\xb8\xad\n[platform.native] # \xef\xbb\x9f\n");
  ASSERT_THAT(r, HasRule("manifest.syntax"));
  EXPECT_EQ(r.error().message,
            "unsupported character U+fedf (toml++ 3.3 mishandles U+00A1..U+0499, U+2C5E..U+3057 "
            "and U+FB26..U+FEFE)");
  EXPECT_EQ(r.error().location->line, 2u);
  EXPECT_EQ(r.error().location->column, 21u);
  Result<Manifest> malformed = parse("[platform.native]\nx = \"\xe0\xdf\xdf\"\n");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().message, "invalid UTF-8 sequence");
  EXPECT_EQ(malformed.error().location->line, 2u);
  EXPECT_EQ(malformed.error().location->column, 6u);
  EXPECT_EQ(parse("\xc0\x80").error().message, "invalid UTF-8 byte 0xc0");  // overlong NUL
  EXPECT_EQ(parse("# \xed\xa0\x80").error().message, "invalid UTF-8 sequence");  // surrogate
  EXPECT_EQ(parse("# \xf0\x9f").error().message, "truncated UTF-8 sequence");
  // The first character the fuzzer found: U+013E at the top level.
  EXPECT_THAT(parse("\xc4\xbe"), HasRule("manifest.syntax"));
  EXPECT_EQ(parse("# caf\xc3\xa9").error().location->column, 6u);  // U+00E9 in a comment
  // The byte-order mark U+FEFF and other non-ASCII text stay accepted.
  EXPECT_TRUE(parse("\xef\xbb\xbf[platform.native] # \xe4\xb8\xad\n[memory]\nsize = 4096\n"
                    "[vp.registers]\nrip = 1\n").ok());
}

TEST(Manifest, SizeSplitsAroundTheDefaultMmioGap) {
  Result<Manifest> m = parse("[platform.native]\n[memory]\nsize = \"4G\"\n[payload]\nelf = \"p\"\n");
  ASSERT_TRUE(m.ok()) << m.error().describe();
  ASSERT_EQ(m->memory.ram.size(), 2u);
  EXPECT_EQ(m->memory.ram[0], (MemoryRange{0, 0xC000'0000}));
  EXPECT_EQ(m->memory.ram[1], (MemoryRange{0x1'0000'0000, 0x4000'0000}));
  ASSERT_EQ(m->memory.mmio.size(), 1u);
  EXPECT_EQ(m->memory.mmio[0], (MemoryRange{0xC000'0000, 0x4000'0000}));
  EXPECT_EQ(m->memory.ramBytes(), 0x1'0000'0000u);
  EXPECT_TRUE(m->memory.isRam(0xBFFF'F000, 0x1000));
  EXPECT_FALSE(m->memory.isRam(0xBFFF'F000, 0x2000));
}

TEST(Manifest, PayloadDefaultsAndPathResolution) {
  Result<Manifest> m = parse(kBase);
  ASSERT_TRUE(m.ok()) << m.error().describe();
  EXPECT_EQ(m->platforms(), PlatformList{Platform::kNative});
  ASSERT_TRUE(m->payload.has_value());
  EXPECT_EQ(m->payload->elf, "/m/probe");
  EXPECT_EQ(m->vp.mode, EntryMode::kLongMode);
  EXPECT_EQ(m->memory.ram, (std::vector<MemoryRange>{{0, 0x400'0000}}));
  Result<Manifest> abs =
      parseManifest("[platform.native]\n[memory]\nsize=\"1M\"\n[payload]\nelf=\"/abs/p\"\n", "t", "/m");
  ASSERT_TRUE(abs.ok());
  EXPECT_EQ(abs->payload->elf, "/abs/p");
}

TEST(Manifest, SnpSettings) {
  Result<Manifest> m = parse(R"(
[platform.snp]
policy = 0xB0000
sev_features = ["restricted_injection", "debug_swap"]
host = "mshv"
vcpus = 4
vmsa_gpa = 0x80_3000
c_bit = 47
[platform.snp.id_block]
id_key = "id.pem"
family_id = "000102030405060708090a0b0c0d0e0f"
guest_svn = 7
[memory]
size = "64M"
[payload]
elf = "p"
)");
  ASSERT_TRUE(m.ok()) << m.error().describe();
  ASSERT_TRUE(m->snp.has_value());
  EXPECT_EQ(m->snp->policy, 0xB0000u);
  EXPECT_EQ(m->snp->sev_features, kSevFeatureSnp | kSevFeatureRestrictedInjection | kSevFeatureDebugSwap);
  EXPECT_EQ(m->snp->host, HostModel::kMshv);
  EXPECT_EQ(m->snp->vcpus, 4u);
  EXPECT_EQ(m->snp->vmsa_gpa, 0x80'3000u);
  EXPECT_EQ(m->snp->c_bit, 47);
  ASSERT_TRUE(m->snp->id_block.has_value());
  EXPECT_EQ(m->snp->id_block->id_key, "/m/id.pem");
  EXPECT_FALSE(m->snp->id_block->author_key.has_value());
  EXPECT_EQ(m->snp->id_block->family_id[15], 0x0f);
  EXPECT_EQ(m->snp->id_block->image_id, std::vector<uint8_t>(16, 0));
  EXPECT_EQ(m->snp->id_block->guest_svn, 7u);
}

TEST(Manifest, SnpDefaultsForKvm) {
  Result<Manifest> m = parse("[platform.snp]\n[memory]\nsize = \"64M\"\n[payload]\nelf = \"p\"\n");
  ASSERT_TRUE(m.ok()) << m.error().describe();
  EXPECT_EQ(m->snp->policy, 0x30000u);
  EXPECT_EQ(m->snp->sev_features, kSevFeatureSnp);
  EXPECT_EQ(m->snp->vmsa_gpa, layout::kSnpKvmVmsaGpa);
  EXPECT_EQ(m->snp->host, HostModel::kKvm);
}

TEST(Manifest, TdxPolicyBits) {
  Result<Manifest> m = parse(
      "[platform.tdx]\ndebug = true\nsept_ve_disable = false\nmigratable = true\n"
      "[memory]\nsize = \"64M\"\n[payload]\nelf = \"p\"\n");
  ASSERT_TRUE(m.ok()) << m.error().describe();
  // IGVM TdxPolicy: debug bit 0, sept_ve_disable bit 1, migratable bit 2 (igvm-format.md §2.6).
  EXPECT_EQ(m->tdx->policy(), 0x5u);
  TdxSettings defaults;
  EXPECT_EQ(defaults.policy(), 0x2u);
}

TEST(Manifest, LinuxFirmwareDataParametersRequiredMemoryRegisters) {
  Result<Manifest> m = parse(R"(
[platform.native]
[platform.vbs]
vtl = 2
[memory]
ram = [{ base = 0, size = "1G" }]
[linux]
kernel = "bz"
initrd = "/i/rd"
cmdline = "console=ttyS0"
load_address = "32M"
[[data]]
file = "blob.bin"
gpa = 0x4000_0000
unmeasured = true
platforms = ["vbs"]
[[data]]
gpa = 0x3000_0000
size = "8K"
shared = true
[[parameter_area]]
gpa = 0x100_0000
size = 0x2000
memory_map = 0x100
command_line = 0x1000
[[required_memory]]
gpa = 0x10_0000
size = "1M"
vtl2_protectable = true
[vp.registers]
rdi = 0x1234
)");
  ASSERT_TRUE(m.ok()) << m.error().describe();
  EXPECT_EQ(m->platforms(), (PlatformList{Platform::kNative, Platform::kVbs}));
  EXPECT_EQ(m->vbs->vtl, 2);
  ASSERT_TRUE(m->linux_boot.has_value());
  EXPECT_EQ(m->linux_boot->kernel, "/m/bz");
  EXPECT_EQ(*m->linux_boot->initrd, "/i/rd");
  EXPECT_EQ(m->linux_boot->cmdline, "console=ttyS0");
  EXPECT_EQ(*m->linux_boot->load_address, 0x200'0000u);
  ASSERT_EQ(m->data.size(), 2u);
  EXPECT_EQ(*m->data[0].file, "/m/blob.bin");
  EXPECT_TRUE(m->data[0].unmeasured);
  EXPECT_EQ(m->data[0].platforms, PlatformList{Platform::kVbs});
  EXPECT_FALSE(m->data[1].file.has_value());
  EXPECT_EQ(*m->data[1].size, 0x2000u);
  EXPECT_TRUE(m->data[1].shared);
  ASSERT_EQ(m->parameter_areas.size(), 1u);
  const ParameterArea& a = m->parameter_areas[0];
  EXPECT_EQ(a.size, 0x2000u);
  ASSERT_EQ(a.parameters.size(), 2u);
  EXPECT_EQ(a.parameters[0].kind, ParameterKind::kMemoryMap);
  EXPECT_EQ(a.parameters[0].byte_offset, 0x100u);
  EXPECT_EQ(parameterName(a.parameters[1].kind), "command_line");
  ASSERT_EQ(m->required_memory.size(), 1u);
  EXPECT_EQ(m->required_memory[0].size, 0x10'0000u);
  EXPECT_TRUE(m->required_memory[0].vtl2_protectable);
  EXPECT_EQ(m->vp.mode, EntryMode::kLongMode);
  EXPECT_EQ(m->vp.registers.at(Register::kRdi), 0x1234u);
}

TEST(Manifest, FirmwareDefaultsToResetAndRegistersMode) {
  Result<Manifest> fw = parse("[platform.tdx]\n[memory]\nsize=\"16M\"\n[firmware]\nimage=\"OVMF.fd\"\n");
  ASSERT_TRUE(fw.ok()) << fw.error().describe();
  EXPECT_EQ(fw->vp.mode, EntryMode::kReset);
  EXPECT_FALSE(fw->firmware->gpa.has_value());
  Result<Manifest> regs = parse(
      "[platform.native]\n[memory]\nsize=\"16M\"\n[[data]]\nfile=\"code\"\ngpa=0x100000\n"
      "[vp.registers]\nrip=0x100000\ncr0=0x11\ncode_selector=8\ncode_attributes=0x9b\n");
  ASSERT_TRUE(regs.ok()) << regs.error().describe();
  EXPECT_EQ(regs->vp.mode, EntryMode::kRegisters);
  EXPECT_EQ(regs->vp.registers.size(), 4u);
  EXPECT_EQ(registerName(Register::kCodeAttributes), "code_attributes");
}

TEST(Manifest, ParseSize) {
  EXPECT_EQ(*parseSize("4096"), 4096u);
  EXPECT_EQ(*parseSize("0x1000"), 0x1000u);
  EXPECT_EQ(*parseSize("64M"), 64u << 20);
  EXPECT_EQ(*parseSize("2GiB"), 2ull << 30);
  EXPECT_EQ(*parseSize("4kb"), 4096u);
  EXPECT_EQ(*parseSize("1_000"), 1000u);
  EXPECT_EQ(*parseSize("1T"), 1ull << 40);
  EXPECT_FALSE(parseSize("").ok());
  EXPECT_FALSE(parseSize("M").ok());
  EXPECT_FALSE(parseSize("12Q").ok());
  EXPECT_FALSE(parseSize("0x10M").ok());
  EXPECT_FALSE(parseSize("99999999999999999999").ok());
  EXPECT_THAT(parseSize("17179869184G"), HasRule("size.range"));
}

// The example manifests in testdata/manifests parse (their files need not exist).
TEST(Manifest, ExamplesParse) {
  for (const char* name : {"demo", "linux", "multi-platform", "firmware", "relocatable"}) {
    std::string path = std::string("testdata/manifests/") + name + ".toml";
    Result<std::string> text = readTextFile(path);
    ASSERT_TRUE(text.ok()) << text.error().describe();
    Result<Manifest> m = parseManifest(*text, path, "testdata/manifests");
    ASSERT_TRUE(m.ok()) << name << ": " << m.error().describe();
  }
  Result<std::string> text = readTextFile("testdata/manifests/multi-platform.toml");
  ASSERT_TRUE(text.ok());
  Result<Manifest> m = parseManifest(*text, "multi-platform.toml", "testdata/manifests");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->platforms().size(), 4u);
  EXPECT_EQ(m->snp->vcpus, 2u);
  EXPECT_EQ(m->vp.identity_map_size, 8ull << 30);
  EXPECT_EQ(m->memory.ram.size(), 2u);
  EXPECT_EQ(m->payload->elf, "testdata/manifests/../../bazel-bin/testdata/guests/probe.elf");
}

// demo.toml hands the probe its info block (testdata/guests/probe_abi.h) in RSI.
TEST(Manifest, DemoPointsTheProbeAtItsInfoBlock) {
  Result<std::string> text = readTextFile("testdata/manifests/demo.toml");
  ASSERT_TRUE(text.ok());
  Result<Manifest> m = parseManifest(*text, "demo.toml", "testdata/manifests");
  ASSERT_TRUE(m.ok()) << m.error().describe();
  ASSERT_EQ(m->data.size(), 1u);
  EXPECT_EQ(m->vp.registers.at(Register::kRsi), m->data[0].gpa);
  Result<ByteVector> info = readFile(*m->data[0].file);
  ASSERT_TRUE(info.ok()) << info.error().describe();
  ASSERT_EQ(info->size(), 88u);
  uint64_t magic = 0, cmdline = 0, memmap = 0, vp_count = 0;
  std::memcpy(&magic, info->data(), 8);
  std::memcpy(&cmdline, info->data() + 0x10, 8);
  std::memcpy(&memmap, info->data() + 0x20, 8);
  std::memcpy(&vp_count, info->data() + 0x30, 8);
  EXPECT_EQ(magic, 0x31424f5250564749u);  // "IGVPROB1"
  const ParameterArea& area = m->parameter_areas.at(0);
  for (const Parameter& p : area.parameters) {
    const uint64_t gpa = area.gpa + p.byte_offset;
    switch (p.kind) {
      case ParameterKind::kCommandLine: EXPECT_EQ(cmdline, gpa); break;
      case ParameterKind::kMemoryMap: EXPECT_EQ(memmap, gpa); break;
      case ParameterKind::kVpCount: EXPECT_EQ(vp_count, gpa); break;
      default: ADD_FAILURE() << "unexpected parameter " << parameterName(p.kind);
    }
  }
}

}  // namespace
}  // namespace igvmkit::builder
