// A real Debian kernel (IGVMKIT_KERNEL, a bzImage) and a busybox initramfs built here from
// Debian's busybox-static (IGVMKIT_BUSYBOX), laid out for native + SNP + TDX in one file, and the
// file taken apart again: every structure the Linux boot protocol and each platform need is
// checked against the inputs and the manifest, not against the builder's own helpers.
// tools/fetch_linux provides both inputs (tools/test passes them); without them the tests skip.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <cstring>
#include <map>
#include <set>
#include <string>

#include "base/file.h"
#include "builder/build.h"
#include "builder/bzimage.h"
#include "builder/manifest.h"
#include "builder/testing/cpio.h"
#include "igvm/defs.h"
#include "igvm/file.h"
#include "igvm/writer.h"
#include "measure/measure.h"

namespace igvmkit::builder {
namespace {

constexpr uint32_t kNative = 0x1, kSnp = 0x2, kTdx = 0x4;  // build()'s bits for native+snp+tdx
constexpr uint64_t kMemory = 512ull << 20;
constexpr const char* kCmdline = "console=ttyS0 earlyprintk=serial,ttyS0,115200 reboot=k panic=-1";

template <class T>
T at(Bytes b, size_t off) {
  T v{};
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}

std::string envPath(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// Guest memory of one platform as the file describes it: gpa -> page bytes (empty = zeros), and
// how many PAGE_DATA directives cover each gpa for that platform.
struct Memory {
  std::map<uint64_t, Bytes> pages;
  std::map<uint64_t, uint32_t> masks;  // gpa -> mask of its (single) directive
  std::map<uint64_t, uint16_t> types;
  // `n` bytes at `gpa` (pages missing from the file read as 0xEE so a hole cannot pass as zeros).
  ByteVector read(uint64_t gpa, uint64_t n) const {
    ByteVector out;
    out.reserve(n);
    for (uint64_t a = gpa; a < gpa + n;) {
      const uint64_t page = a & ~0xFFFull, off = a - page, take = std::min(0x1000 - off, gpa + n - a);
      auto it = pages.find(page);
      for (uint64_t i = 0; i < take; ++i) {
        if (it == pages.end()) {
          out.push_back(std::byte{0xEE});
        } else {
          out.push_back(it->second.empty() ? std::byte{0} : it->second[off + i]);
        }
      }
      a += take;
    }
    return out;
  }
};

Memory memoryOf(const igvm::File& f, uint32_t bit) {
  Memory m;
  for (const igvm::Header& h : f.headers()) {
    if (h.type != igvm::kVhtPageData || !h.appliesTo(bit)) {
      continue;
    }
    const auto* pd = h.get<igvm::IGVM_VHS_PAGE_DATA>();
    EXPECT_EQ(m.pages.count(pd->gpa), 0u) << "two pages at " << hex(pd->gpa) << " for " << bit;
    m.pages[pd->gpa] = h.data;
    m.masks[pd->gpa] = pd->compatibility_mask;
    m.types[pd->gpa] = pd->data_type;
  }
  return m;
}

// An independent 4-level walk (2 MiB or 4 KiB leaves); `cbit` is masked off table addresses.
std::optional<uint64_t> translate(const Memory& m, uint64_t cr3, uint64_t va, uint64_t cbit) {
  const uint64_t addr_mask = 0x000F'FFFF'FFFF'F000ull & ~cbit;
  uint64_t table = cr3 & addr_mask;
  for (int level = 3; level >= 0; --level) {
    const uint64_t idx = (va >> (12 + 9 * level)) & 0x1FF;
    const uint64_t e = at<uint64_t>(m.read(table + idx * 8, 8), 0);
    if ((e & 1) == 0) {
      return std::nullopt;
    }
    if (cbit != 0 && (e & cbit) == 0) {
      ADD_FAILURE() << "snp table entry without the c-bit at level " << level;
    }
    if (level == 1 && (e & 0x80) != 0) {
      return (e & addr_mask & ~0x1F'FFFFull) | (va & 0x1F'FFFF);
    }
    table = e & addr_mask;
  }
  return table | (va & 0xFFF);
}

class RealKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    kernel_path_ = envPath("IGVMKIT_KERNEL");
    const std::string busybox_path = envPath("IGVMKIT_BUSYBOX");
    if (kernel_path_.empty() || busybox_path.empty()) {
      GTEST_SKIP() << "IGVMKIT_KERNEL / IGVMKIT_BUSYBOX not set: run tools/fetch_linux --print "
                      "(tools/test does) and pass them with --test_env";
    }
    Result<ByteVector> k = readFile(kernel_path_);
    Result<ByteVector> b = readFile(busybox_path);
    ASSERT_TRUE(k.ok()) << k.error().describe();
    ASSERT_TRUE(b.ok()) << b.error().describe();
    kernel_ = std::move(*k);
    initrd_ = testing::busyboxInitramfs(*b);
    const std::string text = "[platform.native]\n[platform.snp]\n[platform.tdx]\n"
                             "[memory]\nsize = \"512M\"\n[linux]\nkernel = \"vmlinuz\"\n"
                             "initrd = \"initrd\"\ncmdline = \"" + std::string(kCmdline) + "\"\n";
    Result<Manifest> m = parseManifest(text, "real.toml", "/in");
    ASSERT_TRUE(m.ok()) << m.error().describe();
    manifest_ = *m;
    const FileReader read = reader();
    const auto t0 = std::chrono::steady_clock::now();
    Result<BuildOutput> out = build(manifest_, read);
    build_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(out.ok()) << out.error().describe();
    bytes_ = std::move(out->igvm);
    Result<igvm::File> f = igvm::File::parse(bytes_);
    ASSERT_TRUE(f.ok()) << f.error().describe();
    file_.emplace(std::move(*f));
  }

  FileReader reader() const {
    return [this](const std::string& path) -> Result<ByteVector> {
      if (path == "/in/vmlinuz") {
        return kernel_;
      }
      if (path == "/in/initrd") {
        return initrd_;
      }
      return unreadable(path + ": not found");
    };
  }

  std::vector<const igvm::Header*> ofType(uint32_t type) const {
    std::vector<const igvm::Header*> out;
    for (const igvm::Header& h : file_->headers()) {
      if (h.type == type) {
        out.push_back(&h);
      }
    }
    return out;
  }

  std::string kernel_path_;
  ByteVector kernel_, initrd_, bytes_;
  Manifest manifest_;
  std::optional<igvm::File> file_;
  int64_t build_ms_ = 0;
};

TEST_F(RealKernel, ChecksAndRoundTripsAndIsReproducible) {
  std::cout << "real-kernel image: " << bytes_.size() << " bytes, built in " << build_ms_
            << " ms (kernel " << kernel_.size() << " B, initramfs " << initrd_.size() << " B)\n";
  ASSERT_EQ(file_->platforms().size(), 3u);
  const igvm::PlatformType want[] = {igvm::PlatformType::kNative, igvm::PlatformType::kSevSnp,
                                     igvm::PlatformType::kTdx};
  for (size_t i = 0; i < 3; ++i) {
    const auto* p = file_->platforms()[i].get<igvm::IGVM_VHS_SUPPORTED_PLATFORM>();
    EXPECT_EQ(p->platform_type, static_cast<uint8_t>(want[i]));
    EXPECT_EQ(p->compatibility_mask, 1u << i);
  }
  // `igvmkit check` is the strict parse; fromFile -> write gives the same bytes back.
  EXPECT_TRUE(igvm::File::parse(bytes_, {.strict = true}).ok());
  Result<ByteVector> rewritten = igvm::write(igvm::fromFile(*file_), {.version = file_->version()});
  ASSERT_TRUE(rewritten.ok()) << rewritten.error().describe();
  EXPECT_EQ(*rewritten, bytes_);
  Result<BuildOutput> again = build(manifest_, reader());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->igvm, bytes_) << "two builds differ";
}

TEST_F(RealKernel, KernelInitrdAndZeroPage) {
  // The setup header as the boot protocol defines it, read here from the file itself.
  ASSERT_GE(kernel_.size(), 0x270u);
  const uint16_t version = at<uint16_t>(kernel_, 0x206);
  const uint16_t xloadflags = at<uint16_t>(kernel_, 0x236);
  const uint8_t loadflags = at<uint8_t>(kernel_, 0x211);
  const uint64_t pref = at<uint64_t>(kernel_, 0x258);
  const uint32_t init_size = at<uint32_t>(kernel_, 0x260);
  const uint32_t cmdline_size = at<uint32_t>(kernel_, 0x238);
  const uint32_t initrd_max = at<uint32_t>(kernel_, 0x22C);
  EXPECT_EQ(at<uint32_t>(kernel_, 0x202), 0x53726448u);  // "HdrS"
  EXPECT_GE(version, 0x020Cu);
  EXPECT_NE(xloadflags & 1, 0) << "XLF_KERNEL_64";
  EXPECT_NE(loadflags & 1, 0) << "LOADED_HIGH";
  const uint32_t setup_sects = at<uint8_t>(kernel_, 0x1F1) == 0 ? 4 : at<uint8_t>(kernel_, 0x1F1);
  const size_t pm_offset = (setup_sects + 1) * 512;
  const size_t header_end = 0x202 + at<uint8_t>(kernel_, 0x201);

  // The builder's own parser agrees.
  Result<BzImage> parsed = parseBzImage(kernel_);
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->version, version);
  EXPECT_EQ(parsed->kernel_offset, pm_offset);

  for (uint32_t bit : {kNative, kSnp, kTdx}) {
    SCOPED_TRACE("platform bit " + std::to_string(bit));
    const Memory mem = memoryOf(*file_, bit);
    // The protected-mode kernel at pref_address, byte for byte, stored once for all three.
    const ByteVector pm(kernel_.begin() + pm_offset, kernel_.end());
    EXPECT_EQ(mem.read(pref, pm.size()), pm);
    EXPECT_EQ(mem.masks.at(pref), kNative | kSnp | kTdx);
    EXPECT_EQ(mem.masks.at(pref + ((pm.size() - 1) & ~0xFFFull)), kNative | kSnp | kTdx);

    const ByteVector zp = mem.read(0x2000, 0x1000);
    // The setup header is the kernel's, with the loader's fields filled in.
    for (size_t off = 0x1F1; off < header_end; ++off) {
      if (off == 0x210 || (off >= 0x214 && off < 0x220) || (off >= 0x228 && off < 0x22C)) {
        continue;  // type_of_loader, code32_start, ramdisk_image/size, cmd_line_ptr
      }
      EXPECT_EQ(zp[off], kernel_[off]) << "setup header byte " << hex(off);
    }
    EXPECT_EQ(at<uint8_t>(zp, 0x210), 0xFF);
    EXPECT_EQ(at<uint8_t>(zp, 0x211) & 1, 1);
    // Command line: pointer and text (NUL-terminated, within cmdline_size).
    const uint64_t cmd = at<uint32_t>(zp, 0x228) | uint64_t{at<uint32_t>(zp, 0x0C8)} << 32;
    const std::string want = kCmdline;
    ASSERT_LE(want.size(), cmdline_size);
    const ByteVector text = mem.read(cmd, want.size() + 1);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(text.data()), want.size()), want);
    EXPECT_EQ(text.back(), std::byte{0});
    // The initrd: where the zero page says, the bytes of the archive, above the kernel's
    // init_size area and below initrd_addr_max.
    const uint64_t rd = at<uint32_t>(zp, 0x218) | uint64_t{at<uint32_t>(zp, 0x0C0)} << 32;
    const uint64_t rd_size = at<uint32_t>(zp, 0x21C) | uint64_t{at<uint32_t>(zp, 0x0C4)} << 32;
    EXPECT_EQ(rd_size, initrd_.size());
    EXPECT_GE(rd, pref + init_size);
    EXPECT_LE(rd + rd_size - 1, initrd_max);
    EXPECT_EQ(mem.read(rd, rd_size), initrd_);
    EXPECT_EQ(mem.masks.at(rd), kNative | kSnp | kTdx);
    // e820: 512 MiB of RAM from 0 with the legacy hole reserved.
    ASSERT_EQ(at<uint8_t>(zp, 0x1E8), 3);
    const uint64_t e820[3][3] = {{0, 0xA0000, 1}, {0xA0000, 0x60000, 2}, {0x100000, kMemory - 0x100000, 1}};
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(at<uint64_t>(zp, 0x2D0 + 20 * i), e820[i][0]);
      EXPECT_EQ(at<uint64_t>(zp, 0x2D0 + 20 * i + 8), e820[i][1]);
      EXPECT_EQ(at<uint32_t>(zp, 0x2D0 + 20 * i + 16), e820[i][2]);
    }
    // Only SNP has a cc_blob (at 0x7000: "AMDE", secrets 0x5000, CPUID 0x6000).
    EXPECT_EQ(at<uint32_t>(zp, 0x13C), bit == kSnp ? 0x7000u : 0u);
    // One zero page per platform: native's names the ACPI RSDP (the loader's MADT lists the
    // vCPUs), SNP's the cc_blob, TDX's neither.
    EXPECT_EQ(mem.masks.at(0x2000), bit);
    EXPECT_EQ(at<uint64_t>(zp, 0x070), bit == kNative ? 0x8000u : 0u);
  }
}

TEST_F(RealKernel, PageTablesGdtAndEntryState) {
  const uint64_t entry = at<uint64_t>(kernel_, 0x258) + 0x200;  // 64-bit entry
  // Native: the VP context.
  const auto vps = ofType(igvm::kVhtVpContext);
  ASSERT_EQ(vps.size(), 2u);  // native, then the SNP VMSA last; TDX has none
  EXPECT_EQ(*vps[0]->compatibilityMask(), kNative);
  EXPECT_EQ(*vps[1]->compatibilityMask(), kSnp);
  EXPECT_EQ(&file_->headers().back(), vps[1]);
  igvm::IgvmNativeVpContextX64 ctx{};
  std::memcpy(&ctx, vps[0]->data.data(), sizeof ctx);
  EXPECT_EQ(ctx.rip, entry);
  EXPECT_EQ(ctx.rsi, 0x2000u);
  EXPECT_EQ(ctx.efer & 0x500, 0x500u) << "LME|LMA";
  EXPECT_EQ(ctx.cr0 & 0x8000'0001, 0x8000'0001u) << "PG|PE";
  EXPECT_EQ(ctx.code_selector, 0x10);
  const Memory native = memoryOf(*file_, kNative);
  // Identity mapped: the entry, the zero page, the command line, the stack, the initrd.
  const uint64_t rd = at<uint32_t>(native.read(0x2000, 0x1000), 0x218);
  for (uint64_t va : {entry, uint64_t{0x2000}, uint64_t{0x3000}, ctx.rsp - 8, rd, kMemory - 8}) {
    EXPECT_EQ(translate(native, ctx.cr3, va, 0), va) << hex(va);
  }
  // GDT: selector 0x10 a present 64-bit code segment, 0x18 a present writable data segment.
  const ByteVector gdt = native.read(ctx.gdtr_base, ctx.gdtr_limit + 1u);
  const uint64_t code = at<uint64_t>(gdt, 0x10), data = at<uint64_t>(gdt, 0x18);
  EXPECT_NE(code & (1ull << 47), 0u) << "P";
  EXPECT_NE(code & (1ull << 53), 0u) << "L";
  EXPECT_NE(code & (1ull << 43), 0u) << "code";
  EXPECT_NE(data & (1ull << 47), 0u);
  EXPECT_NE(data & (1ull << 41), 0u) << "writable";

  // SNP: the VMSA (AMD APM vol. 2 table B-4) at KVM's fixed GPA, tables with the C-bit.
  const auto* vp = vps[1]->get<igvm::IGVM_VHS_VP_CONTEXT>();
  EXPECT_EQ(vp->gpa, 0xFFFF'FFFF'F000u);
  const Bytes vmsa = vps[1]->data;
  EXPECT_EQ(at<uint64_t>(vmsa, 0x178), entry) << "rip";
  EXPECT_EQ(at<uint64_t>(vmsa, 0x330), 0x2000u) << "rsi";
  EXPECT_NE(at<uint64_t>(vmsa, 0x3B0) & 1, 0u) << "sev_features.snp";
  const uint64_t cbit = 1ull << 51;
  const uint64_t snp_cr3 = at<uint64_t>(vmsa, 0x150);
  EXPECT_NE(snp_cr3 & cbit, 0u);
  const Memory snp = memoryOf(*file_, kSnp);
  for (uint64_t va : {entry, uint64_t{0x2000}, uint64_t{0x7000}}) {
    EXPECT_EQ(translate(snp, snp_cr3, va, cbit), va) << hex(va);
  }
  // Secrets and CPUID pages (SNP only, the IGVM page types), cc_blob_sev_info.
  EXPECT_EQ(snp.types.at(0x5000), static_cast<uint16_t>(igvm::PageDataType::kSecrets));
  EXPECT_EQ(snp.types.at(0x6000), static_cast<uint16_t>(igvm::PageDataType::kCpuidData));
  EXPECT_EQ(snp.masks.at(0x5000), kSnp);
  EXPECT_EQ(snp.masks.at(0x6000), kSnp);
  const ByteVector blob = snp.read(0x7000, 40);
  EXPECT_EQ(at<uint32_t>(blob, 0), 0x45444D41u);  // "AMDE"
  EXPECT_EQ(at<uint64_t>(blob, 8), 0x5000u);
  EXPECT_EQ(at<uint64_t>(blob, 24), 0x6000u);
  EXPECT_EQ(native.pages.count(0x5000), 0u);

  // TDX: the reset page below 4 GiB, TDX only; it carries the entry state it loads.
  const Memory tdx = memoryOf(*file_, kTdx);
  ASSERT_EQ(tdx.masks.count(0xFFFF'F000), 1u);
  EXPECT_EQ(tdx.masks.at(0xFFFF'F000), kTdx);
  EXPECT_EQ(native.pages.count(0xFFFF'F000), 0u);
  const ByteVector reset = tdx.read(0xFFFF'F000, 0x1000);
  auto holds = [&](uint64_t v) {
    for (size_t off = 0; off + 8 <= reset.size(); off += 4) {
      if (at<uint64_t>(reset, off) == v) {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(holds(entry)) << "the trampoline's RIP";
  EXPECT_NE(reset[0xFF0], std::byte{0}) << "code at the reset vector";
  // TDX shares the native tables (no C-bit), stored once for both.
  EXPECT_EQ(tdx.masks.at(ctx.cr3 & ~0xFFFull), kNative | kTdx);
}

TEST_F(RealKernel, MeasuresForEveryPlatform) {
  Result<measure::ReferenceValues> ref = measureBuilt(manifest_, bytes_);
  ASSERT_TRUE(ref.ok()) << ref.error().describe();
  ASSERT_EQ(ref->forPlatform("snp").size(), 2u);  // kvm x1, mshv
  ASSERT_EQ(ref->forPlatform("tdx").size(), 1u);
  EXPECT_EQ(ref->forPlatform("snp")[0]->digest.size(), 48u);
  EXPECT_EQ(ref->forPlatform("tdx")[0]->digest.size(), 48u);
  EXPECT_EQ(ref->forPlatform("snp")[0]->host, "kvm");
  EXPECT_EQ(ref->forPlatform("snp")[1]->host, "mshv");
  // VBS is not among the file's platforms: measure() refuses rather than inventing a digest.
  EXPECT_FALSE(measure::measure(*file_, {.platform = measure::Platform::kVbs}).ok());
}

}  // namespace
}  // namespace igvmkit::builder
