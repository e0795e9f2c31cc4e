// The VMSA layout of vmsa_layout.h against digests read from real SNP hardware: sev-snp-measure's
// COCONUT-SVSM launches (../shared/testdata/firmware, MANIFEST.md), whose VMSAs QEMU builds and
// the PSP hashes whole. The test takes the launch digest up to the VMSAs from measure/'s OVMF
// launch (its trace), lays each vCPU's VMSA out at the table's offsets with the field values of
// that launch, extends the digest with its own PAGE_INFO hashing, and must reach the hardware's
// digest. A wrong offset in the table (or a field the launch sets that the table lacks) cannot.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/file.h"
#include "igvm/defs.h"
#include "measure/ovmf_launch.h"
#include "ovmf/ovmf.h"
#include "ovmf/testing/shared.h"
#include "tests/oracles/vmsa_layout.h"

namespace igvmkit::oracles {
namespace {

namespace v = vmsa;
using Digest = std::array<uint8_t, 48>;

Digest sha384(const void* data, size_t n) {
  Digest out{};
  unsigned len = 0;
  EVP_Digest(data, n, out.data(), &len, EVP_sha384(), nullptr);
  return out;
}

// One firmware measurement step for a VMSA page (measurement.md §1.2: PAGE_INFO is the current
// digest, the page's SHA-384, length 0x70, page type 2, then the GPA at 0x68).
Digest extendWithVmsa(const Digest& ld, const ByteVector& page, uint64_t gpa) {
  uint8_t info[0x70] = {};
  std::memcpy(info, ld.data(), 48);
  Digest contents = sha384(page.data(), page.size());
  std::memcpy(info + 0x30, contents.data(), 48);
  info[0x60] = 0x70;
  info[0x62] = 2;
  std::memcpy(info + 0x68, &gpa, 8);
  return sha384(info, sizeof(info));
}

template <class T>
void put(ByteVector& page, const v::Field& f, size_t within, T value) {
  ASSERT_LE(within + sizeof(T), f.size);
  std::memcpy(page.data() + f.linux_offset + within, &value, sizeof(T));
}

// `state`'s field values written at vmsa_layout.h's offsets (only the values come from the
// production struct; where they go comes from the table). Every field the SVSM launch sets.
ByteVector tableLayout(const igvm::SevVmsa& state) {
  ByteVector page(v::kPageSize, std::byte{0});
  const std::pair<const v::Field*, igvm::SevVmsaSegment> segments[] = {
      {&v::es, state.es},     {&v::cs, state.cs},     {&v::ss, state.ss},
      {&v::ds, state.ds},     {&v::fs, state.fs},     {&v::gs, state.gs},
      {&v::gdtr, state.gdtr}, {&v::ldtr, state.ldtr}, {&v::idtr, state.idtr},
      {&v::tr, state.tr}};
  for (const auto& [field, s] : segments) {
    put(page, *field, v::kSegSelector, s.selector);
    put(page, *field, v::kSegAttrib, s.attrib);
    put(page, *field, v::kSegLimit, s.limit);
    put(page, *field, v::kSegBase, s.base);
  }
  const std::pair<const v::Field*, uint64_t> regs[] = {
      {&v::efer, state.efer},     {&v::cr4, state.cr4},     {&v::cr3, state.cr3},
      {&v::cr0, state.cr0},       {&v::dr7, state.dr7},     {&v::dr6, state.dr6},
      {&v::rflags, state.rflags}, {&v::rip, state.rip},     {&v::rsp, state.rsp},
      {&v::rax, state.rax},       {&v::cr2, state.cr2},     {&v::g_pat, state.pat},
      {&v::rcx, state.rcx},       {&v::rdx, state.rdx},     {&v::rbx, state.rbx},
      {&v::rbp, state.rbp},       {&v::rsi, state.rsi},     {&v::rdi, state.rdi},
      {&v::sev_features, state.sev_features},               {&v::xcr0, state.xcr0}};
  for (const auto& [field, value] : regs) {
    put(page, *field, 0, value);
  }
  put(page, v::mxcsr, 0, state.mxcsr);
  put(page, v::x87_fcw, 0, state.x87_fcw);
  return page;
}

// The digest in the trace line of the last operation before the first VMSA.
Digest digestBeforeVmsas(const std::vector<std::string>& trace) {
  Digest ld{};
  for (const std::string& line : trace) {
    if (line.find(" vmsa ") != std::string::npos) {
      break;
    }
    const std::string hexd = line.substr(line.rfind("digest=") + 7);
    for (size_t i = 0; i < 48; ++i) {
      ld[i] = static_cast<uint8_t>(std::stoul(hexd.substr(2 * i, 2), nullptr, 16));
    }
  }
  return ld;
}

std::string hexOf(const Digest& d) {
  return hexBytes(Bytes(reinterpret_cast<const std::byte*>(d.data()), d.size()));
}

// sev-snp-measure test_snp_svsm_{4,2}_vcpus, EPYC-v4 (MANIFEST.md: read from real hardware).
TEST(VmsaFromHardware, TheTablesLayoutReachesTheSvsmLaunchDigests) {
  const auto dir = ovmf::testing::sharedFirmwareDir();
  if (!dir) {
    GTEST_SKIP() << "IGVMKIT_SHARED/testdata/firmware not present (set --test_env=IGVMKIT_SHARED)";
  }
  Result<MappedFile> ovmf_file = MappedFile::open(*dir + "/svsm_ovmf.fd");
  Result<MappedFile> svsm_file = MappedFile::open(*dir + "/svsm.bin");
  ASSERT_TRUE(ovmf_file.ok() && svsm_file.ok());
  Result<ovmf::Firmware> fw = ovmf::Firmware::parse(ovmf_file->bytes());
  ASSERT_TRUE(fw.ok()) << fw.error().describe();
  constexpr uint32_t kEpycV4 = 0x800F12;
  const std::pair<uint32_t, const char*> hardware[] = {
      {4, "27d154c27b7b359c935e250ec6fee72aa0ae8c1225e3b0e1cf46a9567e938066d7d6f94bbdc4a857818bdb79277a44b2"},
      {2, "9b94745036aafddf4f7f8b00c7513abb5b7703178cb95aaa57928bd963d68d3bfcb715d6019b9167ee2517b11b0d9be7"}};
  for (const auto& [vcpus, digest] : hardware) {
    std::vector<std::string> trace;
    measure::OvmfLaunchOptions o;
    o.vcpus = vcpus;
    o.vcpu_sig = kEpycV4;
    o.svsm = measure::SvsmLaunch{svsm_file->bytes(), 540672};
    o.trace = [&](const std::string& line) { trace.push_back(line); };
    Result<measure::Measurement> m = measure::measureOvmfLaunch(*fw, o);
    ASSERT_TRUE(m.ok()) << m.error().describe();
    ASSERT_EQ(hexBytes(m->digest), digest);  // the production launch reaches it too

    // Every vCPU of an SVSM launch starts at the SVSM entry with the same state.
    const std::string entry = m->assumptions["svsm_entry"].get<std::string>();
    const igvm::SevVmsa state =
        measure::svsmResetVmsa(static_cast<uint32_t>(std::stoul(entry, nullptr, 16)), kEpycV4);
    const ByteVector page = tableLayout(state);
    EXPECT_EQ(hexBytes(page), hexBytes(asBytes(state))) << "table layout vs igvm::SevVmsa";

    Digest ld = digestBeforeVmsas(trace);
    for (uint32_t i = 0; i < vcpus; ++i) {
      ld = extendWithVmsa(ld, page, 0xFFFFFFFFF000ull);
    }
    EXPECT_EQ(hexOf(ld), digest) << vcpus << " vcpus";
  }
}

}  // namespace
}  // namespace igvmkit::oracles
