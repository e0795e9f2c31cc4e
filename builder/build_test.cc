#include "builder/build.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/file.h"
#include "base/testing/matchers.h"
#include "builder/testing/test_images.h"
#include "igvm/defs.h"
#include "igvm/file.h"
#include "igvm/writer.h"
#include "measure/measure.h"
#include "ovmf/testing/image_builder.h"

namespace igvmkit::builder {
namespace {

using ::igvmkit::testing::HasRule;

testing::MemoryFiles standardFiles() {
  testing::MemoryFiles f;
  f.add("/m/probe", testing::smallPayloadElf());
  f.add("/m/bz", testing::makeBzImage({}));
  f.add("/m/rd", ByteVector(0x1800, std::byte{0x11}));
  // A TDVF (TDX needs one): one extended BFV page, the image's last, at 0xFFFFF000.
  f.add("/m/fw", ovmf::testing::ImageBuilder(0x3000)
                     .tdxMetadata({{0x2000, 0x1000, 0xFFFF'F000, 0x1000, ovmf::TdvfSectionType::kBfv,
                                    ovmf::kTdvfAttributeMrExtend},
                                   {0, 0, 0x80'0000, 0x1000, ovmf::TdvfSectionType::kTempMem, 0}})
                     .build());
  f.add("/m/blob", ByteVector(0x1234, std::byte{0x42}));
  return f;
}

Manifest parse(std::string_view text) {
  Result<Manifest> m = parseManifest(text, "t.toml", "/m");
  EXPECT_TRUE(m.ok()) << m.error().describe();
  return *m;
}

// Builds, then checks: the parser accepts it, fromFile + write reproduces it, and a second build
// is byte-identical.
igvm::File buildChecked(const Manifest& m, const testing::MemoryFiles& files, ByteVector& storage) {
  Result<BuildOutput> out = build(m, files.reader());
  EXPECT_TRUE(out.ok()) << out.error().describe();
  if (!out.ok()) {
    return *igvm::File::parse({});
  }
  storage = out->igvm;
  Result<BuildOutput> again = build(m, files.reader());
  EXPECT_TRUE(again.ok());
  EXPECT_EQ(again->igvm, storage) << "two builds differ";
  Result<igvm::File> file = igvm::File::parse(storage);
  EXPECT_TRUE(file.ok()) << file.error().describe();
  Result<ByteVector> rewritten = igvm::write(igvm::fromFile(*file), {.version = file->version()});
  EXPECT_TRUE(rewritten.ok()) << rewritten.error().describe();
  EXPECT_EQ(*rewritten, storage) << "fromFile -> write does not round-trip";
  return *file;
}

std::vector<const igvm::Header*> ofType(const igvm::File& f, uint32_t type) {
  std::vector<const igvm::Header*> out;
  for (const igvm::Header& h : f.headers()) {
    if (h.type == type) {
      out.push_back(&h);
    }
  }
  return out;
}

constexpr const char* kAreas = R"(
[memory]
size = "64M"
[[parameter_area]]
gpa = 0x80000
vp_count = 0
memory_map = 0x10
)";

TEST(Build, PayloadEachPlatformAlone) {
  const std::map<std::string, igvm::PlatformType> platforms = {
      {"native", igvm::PlatformType::kNative},
      {"snp", igvm::PlatformType::kSevSnp},
      {"tdx", igvm::PlatformType::kTdx},
      {"vbs", igvm::PlatformType::kVsmIsolation}};
  testing::MemoryFiles files = standardFiles();
  for (const auto& [name, type] : platforms) {
    SCOPED_TRACE(name);
    Manifest m = parse("[platform." + name + "]\n" + kAreas + "[payload]\nelf = \"probe\"\n");
    ByteVector bytes;
    igvm::File f = buildChecked(m, files, bytes);
    ASSERT_EQ(f.platforms().size(), 1u);
    const auto* p = f.platforms()[0].get<igvm::IGVM_VHS_SUPPORTED_PLATFORM>();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->platform_type, static_cast<uint8_t>(type));
    EXPECT_EQ(p->compatibility_mask, 1u);
    // The payload's code page is in the file.
    bool code = false;
    for (const igvm::Header* h : ofType(f, igvm::kVhtPageData)) {
      const auto* pd = h->get<igvm::IGVM_VHS_PAGE_DATA>();
      if (pd->gpa == 0x10'0000) {
        code = !h->data.empty() && h->data[0x1F] == std::byte{0x90};
      }
    }
    EXPECT_TRUE(code);
    // VP contexts: none for TDX (the reset trampoline page instead), one otherwise.
    const auto vps = ofType(f, igvm::kVhtVpContext);
    EXPECT_EQ(vps.size(), name == "tdx" ? 0u : 1u);
    if (name == "snp") {
      const auto* vp = vps[0]->get<igvm::IGVM_VHS_VP_CONTEXT>();
      EXPECT_EQ(vp->gpa, 0xFFFF'FFFF'F000u);  // KVM host model
      uint64_t efer = 0, sev_features = 0, xcr0 = 0;
      std::memcpy(&efer, vps[0]->data.data() + 0xD0, 8);
      std::memcpy(&xcr0, vps[0]->data.data() + 0x3E8, 8);
      std::memcpy(&sev_features, vps[0]->data.data() + 0x3B0, 8);
      EXPECT_NE(efer & 0x1000, 0u) << "EFER.SVME";
      EXPECT_NE(xcr0 & 1, 0u);
      EXPECT_NE(sev_features & 1, 0u);
      EXPECT_EQ(&f.headers().back(), vps[0]) << "the VMSA is the last directive";
    }
    if (name == "tdx") {
      bool trampoline = false;
      for (const igvm::Header* h : ofType(f, igvm::kVhtPageData)) {
        trampoline |= h->get<igvm::IGVM_VHS_PAGE_DATA>()->gpa == 0xFFFF'F000;
      }
      EXPECT_TRUE(trampoline);
    }
    // SNP and TDX carry a guest policy.
    EXPECT_EQ(ofType(f, igvm::kVhtGuestPolicy).size(), (name == "snp" || name == "tdx") ? 1u : 0u);
    // The parameter area with its two parameters and the insert.
    ASSERT_EQ(ofType(f, igvm::kVhtParameterArea).size(), 1u);
    EXPECT_EQ(ofType(f, igvm::kVhtVpCountParameter).size(), 1u);
    EXPECT_EQ(ofType(f, igvm::kVhtMemoryMap).size(), 1u);
    ASSERT_EQ(ofType(f, igvm::kVhtParameterInsert).size(), 1u);
    EXPECT_EQ(ofType(f, igvm::kVhtParameterInsert)[0]->get<igvm::IGVM_VHS_PARAMETER_INSERT>()->gpa,
              0x80000u);
  }
}

TEST(Build, MultiPlatformMasksAndSharedPagesStoredOnce) {
  Manifest m = parse(std::string("[platform.native]\n[platform.snp]\n[platform.tdx]\n[platform.vbs]\n") +
                     kAreas + "[payload]\nelf = \"probe\"\n");
  ByteVector bytes;
  igvm::File f = buildChecked(m, standardFiles(), bytes);
  ASSERT_EQ(f.platforms().size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(f.platforms()[i].get<igvm::IGVM_VHS_SUPPORTED_PLATFORM>()->compatibility_mask,
              1u << i);
  }
  // Every page of the payload appears once, for all four platforms.
  std::map<uint64_t, std::vector<uint32_t>> masks_at;
  for (const igvm::Header* h : ofType(f, igvm::kVhtPageData)) {
    const auto* pd = h->get<igvm::IGVM_VHS_PAGE_DATA>();
    masks_at[pd->gpa].push_back(pd->compatibility_mask);
  }
  EXPECT_EQ(masks_at[0x10'0000], std::vector<uint32_t>{0xF});
  EXPECT_EQ(masks_at[0x1000], std::vector<uint32_t>{0xF});  // GDT
  // Page tables differ (the SNP C-bit): one directive set for SNP, one for the others.
  std::set<uint32_t> pt(masks_at[0x10000].begin(), masks_at[0x10000].end());
  EXPECT_EQ(pt, (std::set<uint32_t>{0x2, 0xD}));
  // Per-platform VP contexts: native 0x1, vbs 0x8, snp 0x2 last; none for TDX.
  std::vector<uint32_t> vp_masks;
  for (const igvm::Header* h : ofType(f, igvm::kVhtVpContext)) {
    vp_masks.push_back(*h->compatibilityMask());
  }
  EXPECT_EQ(vp_masks, (std::vector<uint32_t>{0x1, 0x8, 0x2}));
  EXPECT_EQ(ofType(f, igvm::kVhtParameterInsert)[0]->compatibilityMask(), 0xFu);
}

TEST(Build, LinuxNativeSnpTdx) {
  Manifest m = parse(R"(
[platform.native]
[platform.snp]
[platform.tdx]
[memory]
size = "256M"
[linux]
kernel = "bz"
initrd = "rd"
cmdline = "console=ttyS0"
)");
  ByteVector bytes;
  igvm::File f = buildChecked(m, standardFiles(), bytes);
  EXPECT_EQ(f.platforms().size(), 3u);
  std::map<uint16_t, int> types;
  for (const igvm::Header* h : ofType(f, igvm::kVhtPageData)) {
    types[h->get<igvm::IGVM_VHS_PAGE_DATA>()->data_type]++;
  }
  EXPECT_EQ(types[static_cast<uint16_t>(igvm::PageDataType::kSecrets)], 1);
  EXPECT_EQ(types[static_cast<uint16_t>(igvm::PageDataType::kCpuidData)], 1);
}

TEST(Build, FirmwareAndData) {
  Manifest m = parse(R"(
[platform.native]
[platform.tdx]
[memory]
size = "64M"
[firmware]
image = "fw"
[vp]
mode = "reset"
[[data]]
file = "blob"
gpa = 0x200000
unmeasured = true
[[data]]
gpa = 0x300000
size = "8K"
shared = true
platforms = ["tdx"]
)");
  ByteVector bytes;
  igvm::File f = buildChecked(m, standardFiles(), bytes);
  // The firmware's top page twice: flat for native, the TDVF's BFV page for TDX.
  bool fw_top = false, fw_top_tdx = false, unmeasured = false, shared_tdx = false;
  for (const igvm::Header* h : ofType(f, igvm::kVhtPageData)) {
    const auto* pd = h->get<igvm::IGVM_VHS_PAGE_DATA>();
    fw_top |= pd->gpa == 0xFFFF'F000 && pd->compatibility_mask == 0x1;
    fw_top_tdx |= pd->gpa == 0xFFFF'F000 && pd->compatibility_mask == 0x2;
    unmeasured |= pd->gpa == 0x20'1000 && (pd->flags & igvm::kPageDataFlagUnmeasured) != 0 &&
                  h->data[0x233] == std::byte{0x42};
    shared_tdx |= pd->gpa == 0x30'1000 && (pd->flags & igvm::kPageDataFlagShared) != 0 &&
                  pd->compatibility_mask == 0x2;
  }
  EXPECT_TRUE(fw_top);
  EXPECT_TRUE(fw_top_tdx);
  EXPECT_TRUE(unmeasured);
  EXPECT_TRUE(shared_tdx);
}

TEST(Build, MeasurementsCoverEveryMeasuredPlatform) {
  Manifest m = parse(std::string("[platform.native]\n[platform.snp]\nvcpus = 2\n[platform.tdx]\n") +
                     kAreas + "[payload]\nelf = \"probe\"\n");
  Result<BuildOutput> out = build(m, standardFiles().reader());
  ASSERT_TRUE(out.ok()) << out.error().describe();
  Result<measure::ReferenceValues> ref = measureBuilt(m, out->igvm);
  ASSERT_TRUE(ref.ok()) << ref.error().describe();
  // Round-trips through the reader verify --expect uses.
  Result<measure::ReferenceValues> back =
      measure::ReferenceValues::fromJson(ref->toJson().dump());
  ASSERT_TRUE(back.ok()) << back.error().describe();
  ASSERT_EQ(back->forPlatform("snp").size(), 3u);  // kvm x1, kvm x2, mshv
  EXPECT_EQ(back->forPlatform("snp")[0]->host, "kvm");
  EXPECT_EQ(back->forPlatform("snp")[1]->vcpus, 2u);
  EXPECT_NE(back->forPlatform("snp")[0]->digest, back->forPlatform("snp")[1]->digest);
  EXPECT_EQ(back->forPlatform("snp")[2]->host, "mshv");
  ASSERT_EQ(back->forPlatform("tdx").size(), 1u);
  EXPECT_EQ(back->forPlatform("tdx")[0]->digest.size(), 48u);
}

TEST(Build, MissingInputIsAnError) {
  Manifest m = parse(std::string("[platform.native]\n") + kAreas + "[payload]\nelf = \"nope\"\n");
  Result<BuildOutput> out = build(m, standardFiles().reader());
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().describe().find("nope"), std::string::npos);
}

// A fresh ECDSA P-384 key from OpenSSL (EVP), and its private key as PEM.
struct TestKey {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
  ByteVector pem;
};
TestKey makeP384Key() {
  TestKey k;
  k.key.reset(EVP_EC_gen("P-384"));
  EXPECT_NE(k.key, nullptr);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  EXPECT_EQ(PEM_write_bio_PrivateKey(bio.get(), k.key.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  const auto* b = reinterpret_cast<const std::byte*>(data);
  k.pem.assign(b, b + n);
  return k;
}

// OpenSSL's own verdict on an SNP-format signature (r, s little endian) over `message`.
bool opensslVerifies(EVP_PKEY* key, Bytes message, const igvm::IGVM_VHS_SNP_ID_BLOCK_SIGNATURE& sig) {
  ECDSA_SIG* es = ECDSA_SIG_new();
  ECDSA_SIG_set0(es, BN_lebin2bn(sig.r_comp, 48, nullptr), BN_lebin2bn(sig.s_comp, 48, nullptr));
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(es, &der);
  ECDSA_SIG_free(es);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const bool ok = der_len > 0 &&
                  EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx.get(), der, der_len,
                                   reinterpret_cast<const unsigned char*>(message.data()),
                                   message.size()) == 1;
  OPENSSL_free(der);
  return ok;
}

// The key's public point as the directive stores it (little endian, zero-extended).
bool samePublicKey(EVP_PKEY* key, const igvm::IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY& pk) {
  BIGNUM *x = nullptr, *y = nullptr;
  EVP_PKEY_get_bn_param(key, "qx", &x);
  EVP_PKEY_get_bn_param(key, "qy", &y);
  uint8_t qx[72] = {}, qy[72] = {};
  const bool ok = x != nullptr && y != nullptr && BN_bn2lebinpad(x, qx, 72) == 72 &&
                  BN_bn2lebinpad(y, qy, 72) == 72;
  BN_free(x);
  BN_free(y);
  return ok && pk.curve == 2 && std::memcmp(qx, pk.qx, 72) == 0 && std::memcmp(qy, pk.qy, 72) == 0;
}

// [platform.snp.id_block] through build(): keys made here, the directive verified with OpenSSL
// directly against the launch digest measure() computes for the file.
TEST(Build, IdBlockSignedFromManifest) {
  TestKey id = makeP384Key(), author = makeP384Key();
  testing::MemoryFiles files = standardFiles();
  files.add("/m/keys/id.pem", id.pem);
  files.add("/m/keys/author.pem", author.pem);
  Manifest m = parse(std::string(R"(
[platform.native]
[platform.snp]
policy = 0x30000
vcpus = 2
[platform.snp.id_block]
id_key = "keys/id.pem"
author_key = "keys/author.pem"
family_id = "00112233445566778899aabbccddeeff"
image_id = "0102030405060708090a0b0c0d0e0f10"
guest_svn = 7
)") + kAreas + "[payload]\nelf = \"probe\"\n");
  Result<BuildOutput> out = build(m, files.reader());
  ASSERT_TRUE(out.ok()) << out.error().describe();
  Result<igvm::File> f = igvm::File::parse(out->igvm);
  ASSERT_TRUE(f.ok()) << f.error().describe();
  const auto blocks = ofType(*f, igvm::kVhtSnpIdBlock);
  ASSERT_EQ(blocks.size(), 1u);
  const auto* b = blocks[0]->get<igvm::IGVM_VHS_SNP_ID_BLOCK>();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->compatibility_mask, 0x2u);
  // LD is the digest KVM computes at LAUNCH_FINISH for the manifest's 2 vCPUs (the ID block itself
  // is not measured).
  Result<measure::Measurement> ld = measure::measure(
      *f, {.platform = measure::Platform::kSnp, .host = measure::HostModel::kKvm, .vcpus = 2});
  ASSERT_TRUE(ld.ok()) << ld.error().describe();
  ASSERT_EQ(ld->digest.size(), 48u);
  EXPECT_EQ(std::memcmp(b->ld, ld->digest.data(), 48), 0);
  EXPECT_EQ(b->guest_svn, 7u);
  EXPECT_EQ(b->family_id[1], 0x11);
  EXPECT_EQ(b->image_id[15], 0x10);
  // The 96-byte ID_BLOCK the ID key signs: LD, family, image, version, svn, policy.
  ByteVector msg(0x60, std::byte{0});
  std::memcpy(msg.data(), b->ld, 48);
  std::memcpy(msg.data() + 0x30, b->family_id, 16);
  std::memcpy(msg.data() + 0x40, b->image_id, 16);
  const uint32_t version = 1, svn = b->guest_svn;
  const uint64_t policy = 0x30000;
  std::memcpy(msg.data() + 0x50, &version, 4);
  std::memcpy(msg.data() + 0x54, &svn, 4);
  std::memcpy(msg.data() + 0x58, &policy, 8);
  EXPECT_TRUE(samePublicKey(id.key.get(), b->id_public_key));
  EXPECT_TRUE(opensslVerifies(id.key.get(), msg, b->id_key_signature));
  // The author key signs the ID key's 0x404-byte public-key structure.
  EXPECT_EQ(b->author_key_enabled, 1);
  ByteVector key_msg(0x404, std::byte{0});
  std::memcpy(key_msg.data(), &b->id_public_key.curve, 4);
  std::memcpy(key_msg.data() + 4, b->id_public_key.qx, 72);
  std::memcpy(key_msg.data() + 0x4C, b->id_public_key.qy, 72);
  EXPECT_TRUE(samePublicKey(author.key.get(), b->author_public_key));
  EXPECT_TRUE(opensslVerifies(author.key.get(), key_msg, b->author_key_signature));
  // A different digest does not verify (the check above can fail).
  msg[0] ^= std::byte{1};
  EXPECT_FALSE(opensslVerifies(id.key.get(), msg, b->id_key_signature));
}

// A relocatable payload: RELOCATABLE_REGION and PAGE_TABLE_RELOCATION for native + vbs only
// (SNP and TDX digests cover GPAs), covering the payload's pages and the generated tables.
TEST(Build, RelocatablePayloadAndPageTables) {
  testing::MemoryFiles files = standardFiles();
  Manifest m = parse(std::string(R"(
[platform.native]
[platform.snp]
[platform.vbs]
[payload]
elf = "probe"
[payload.relocatable]
alignment = "1M"
minimum = "1M"
maximum = "1G"
apply_rip = true
[vp]
page_table_relocation = true
page_table_free_pages = 4
)") + kAreas);
  ByteVector storage;
  igvm::File f = buildChecked(m, files, storage);
  auto regions = ofType(f, igvm::kVhtRelocatableRegion);
  ASSERT_EQ(regions.size(), 1u);
  const auto* r = regions[0]->get<igvm::IGVM_VHS_RELOCATABLE_REGION>();
  EXPECT_EQ(r->compatibility_mask, 0x1u | 0x4u);  // native and vbs, not snp
  EXPECT_EQ(r->relocation_region_gpa, 0x100000u);
  EXPECT_EQ(r->relocation_region_size, 0x4000u);  // 0x100000..0x101000 and 0x101000..0x104000
  EXPECT_EQ(r->relocation_alignment, 0x100000u);
  EXPECT_EQ(r->minimum_relocation_gpa, 0x100000u);
  EXPECT_EQ(r->maximum_relocation_gpa, 0x40000000u);
  EXPECT_EQ(r->flags, igvm::kRelocationFlagApplyPc);
  auto tables = ofType(f, igvm::kVhtPageTableRelocationRegion);
  ASSERT_EQ(tables.size(), 1u);
  const auto* t = tables[0]->get<igvm::IGVM_VHS_PAGE_TABLE_RELOCATION>();
  EXPECT_EQ(t->compatibility_mask, 0x5u);
  EXPECT_EQ(t->gpa, 0x10000u);
  // [0, 4 GiB) with 2 MiB leaves: PML4, PDPT and four PDs, then the four free pages.
  EXPECT_EQ(t->used_size, 0x6000u);
  EXPECT_EQ(t->size, 0xA000u);
  // The native tables are the PAGE_DATA at [gpa, gpa + used_size); nothing in the free pages.
  std::set<uint64_t> native_pages;
  for (const igvm::Header* h : ofType(f, igvm::kVhtPageData)) {
    const auto* pd = h->get<igvm::IGVM_VHS_PAGE_DATA>();
    if ((pd->compatibility_mask & 0x1) != 0 && pd->gpa >= t->gpa && pd->gpa < t->gpa + t->size) {
      native_pages.insert(pd->gpa);
    }
  }
  EXPECT_EQ(native_pages.size(), 6u);
  EXPECT_EQ(*native_pages.rbegin(), 0x15000u);
}

TEST(Build, RelocationPlacementErrors) {
  testing::MemoryFiles files = standardFiles();
  auto fails = [&](const std::string& relocatable, const std::string& message) {
    Result<Manifest> m = parseManifest(
        "[platform.native]\n[platform.vbs]\n[payload]\nelf = \"probe\"\n[payload.relocatable]\n" +
            relocatable + kAreas,
        "t.toml", "/m");
    ASSERT_TRUE(m.ok()) << m.error().describe();
    Result<BuildOutput> out = build(*m, files.reader());
    ASSERT_THAT(out, HasRule("image.placement")) << relocatable;
    EXPECT_EQ(out.error().message, message);
  };
  fails("alignment = \"2M\"\nmaximum = \"1G\"\n",
        "the relocatable payload starts at 0x100000, not a multiple of its alignment 0x200000");
  fails("alignment = \"1M\"\nminimum = \"2M\"\nmaximum = \"1G\"\n",
        "the relocatable payload [0x100000, 0x104000) lies outside its own range [0x200000, "
        "0x40000000)");
  fails("alignment = \"1M\"\nmaximum = \"1G\"\napply_gdtr = true\n",
        "apply_gdtr: the gdt at 0x1000 is outside the relocatable payload [0x100000, 0x104000)");
}

}  // namespace
}  // namespace igvmkit::builder
