#include "loader/testing/snp_psp.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "loader/backend.h"
#include "hv/kvm_abi.h"
#include "hv/mshv_abi.h"
#include "tests/oracles/vmsa_layout.h"

namespace igvmkit::loader::testing {
namespace {

using namespace hv::kvm;   // NOLINT
using namespace hv::mshv;  // NOLINT

Digest48 sha384(const void* data, size_t n) {
  Digest48 out{};
  unsigned int len = 0;
  EVP_Digest(data, n, out.data(), &len, EVP_sha384(), nullptr);
  return out;
}

template <class T>
T load(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

constexpr uint8_t kBadMeasurement = 11;
// EFER.SVME (AMD APM Vol. 2, EFER bit 12).
constexpr uint64_t kEferSvme = 1ull << 12;

// The 48 low bytes of a 72-byte little-endian field, as a big-endian integer.
std::array<uint8_t, 48> bigEndian48(const uint8_t* le72) {
  std::array<uint8_t, 48> be{};
  for (size_t i = 0; i < 48; ++i) {
    be[i] = le72[47 - i];
  }
  return be;
}

// Verifies an SNP signature structure (r, s little endian at 0 and 0x48) by the SNP public key
// structure `key` (curve u32, qx at 4, qy at 0x4C) over `msg`: ECDSA P-384 with SHA-384
// (measurement.md §2.3-2.4).
std::optional<std::string> verifySnpSignature(const uint8_t* key, const uint8_t* sig,
                                              const uint8_t* msg, size_t msg_len) {
  uint32_t curve;
  std::memcpy(&curve, key, 4);
  if (curve != 2) {
    return "public key curve " + std::to_string(curve) + " is not p-384 (2)";
  }
  uint8_t point[97];
  point[0] = 0x04;
  auto x = bigEndian48(key + 4);
  auto y = bigEndian48(key + 0x4C);
  std::memcpy(point + 1, x.data(), 48);
  std::memcpy(point + 49, y.data(), 48);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-384", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* pkey = nullptr;
  bool key_ok = pctx != nullptr && EVP_PKEY_fromdata_init(pctx) == 1 &&
                EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  EVP_PKEY_CTX_free(pctx);
  if (!key_ok) {
    EVP_PKEY_free(pkey);
    return std::string("public key is not a p-384 point");
  }
  auto r = bigEndian48(sig);
  auto s = bigEndian48(sig + 0x48);
  ECDSA_SIG* esig = ECDSA_SIG_new();
  ECDSA_SIG_set0(esig, BN_bin2bn(r.data(), 48, nullptr), BN_bin2bn(s.data(), 48, nullptr));
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(esig, &der);
  ECDSA_SIG_free(esig);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = der_len > 0 && EVP_DigestVerifyInit(md, nullptr, EVP_sha384(), nullptr, pkey) == 1 &&
            EVP_DigestVerify(md, der, static_cast<size_t>(der_len), msg, msg_len) == 1;
  EVP_MD_CTX_free(md);
  OPENSSL_free(der);
  EVP_PKEY_free(pkey);
  if (!ok) {
    return std::string("signature does not verify");
  }
  return std::nullopt;
}

// A P-384 key's public point as an SNP public key structure at `out` (curve 2, LE qx, qy).
void writePublicKey(EVP_PKEY* key, uint8_t* out) {
  uint32_t curve = 2;
  std::memcpy(out, &curve, 4);
  const char* names[] = {OSSL_PKEY_PARAM_EC_PUB_X, OSSL_PKEY_PARAM_EC_PUB_Y};
  for (int i = 0; i < 2; ++i) {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key, names[i], &bn);
    uint8_t be[48] = {};
    BN_bn2binpad(bn, be, 48);
    BN_free(bn);
    for (size_t j = 0; j < 48; ++j) {
      out[4 + 0x48 * i + j] = be[47 - j];
    }
  }
}

// ECDSA P-384/SHA-384 of `msg` as an SNP signature structure at `out` (LE r at 0, s at 0x48).
void writeSignature(EVP_PKEY* key, const uint8_t* msg, size_t len, uint8_t* out) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  size_t der_len = 0;
  EVP_DigestSignInit(md, nullptr, EVP_sha384(), nullptr, key);
  EVP_DigestSign(md, nullptr, &der_len, msg, len);
  std::vector<unsigned char> der(der_len);
  EVP_DigestSign(md, der.data(), &der_len, msg, len);
  EVP_MD_CTX_free(md);
  const unsigned char* p = der.data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len));
  const BIGNUM* parts[2] = {ECDSA_SIG_get0_r(sig), ECDSA_SIG_get0_s(sig)};
  for (int i = 0; i < 2; ++i) {
    uint8_t be[48] = {};
    BN_bn2binpad(parts[i], be, 48);
    for (size_t j = 0; j < 48; ++j) {
      out[0x48 * i + j] = be[47 - j];
    }
  }
  ECDSA_SIG_free(sig);
}

}  // namespace

void signIdBlock(SnpIdBlock& id, bool author) {
  id.id_auth.fill(0);
  EVP_PKEY* id_key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  uint32_t one = 1;
  std::memcpy(id.id_auth.data(), &one, 4);  // ID_KEY_ALGO: ECDSA P-384 with SHA-384
  writePublicKey(id_key, id.id_auth.data() + 0x240);
  writeSignature(id_key, id.id_block.data(), 96, id.id_auth.data() + 0x40);
  EVP_PKEY_free(id_key);
  id.author_key_enabled = author;
  if (author) {
    EVP_PKEY* author_key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
    std::memcpy(id.id_auth.data() + 4, &one, 4);
    writePublicKey(author_key, id.id_auth.data() + 0x880);
    writeSignature(author_key, id.id_auth.data() + 0x240, 0x404, id.id_auth.data() + 0x680);
    EVP_PKEY_free(author_key);
  }
}

Result<Digest48> simulateSnpLaunch(const Plan& plan) {
  if (!isSnp(plan.backend)) {
    return usage("simulateSnpLaunch needs a kvm-snp or mshv-snp plan");
  }
  hv::testing::FakeDevice dev;
  SnpPsp psp(dev);
  std::unique_ptr<Backend> backend = makeBackend(plan.backend, dev);
  IGVMKIT_RETURN_IF_ERROR(launch(*backend, plan));
  if (!dev.violations().empty()) {
    return internal("fake device violation: " + dev.violations()[0]);
  }
  return psp.digest();
}

SnpPsp::SnpPsp(hv::testing::FakeDevice& device) {
  device.observe([this](const hv::testing::FakeCall& call, void* arg) { onCall(call, arg); });
  device.script("KVM_SEV_SNP_LAUNCH_FINISH",
                [this](hv::testing::FakeCall& call, void* arg) { return onKvmFinish(call, arg); });
  device.script("MSHV_COMPLETE_ISOLATED_IMPORT",
                [this](hv::testing::FakeCall& call, void* arg) { return onMshvComplete(call, arg); });
}

void SnpPsp::measurePage(uint8_t type, uint64_t gpa, const std::byte* page) {
  // PAGE_INFO (measurement.md §1.2): DIGEST_CUR, CONTENTS, LENGTH 0x70, PAGE_TYPE, IMI 0,
  // VMPL permissions 0, reserved 0, GPA.
  uint8_t info[0x70] = {};
  std::memcpy(info, ld_.data(), 48);
  Digest48 contents{};
  if (type == kFwPageNormal || type == kFwPageVmsa) {
    contents = sha384(page, 4096);
  }
  std::memcpy(info + 0x30, contents.data(), 48);
  info[0x60] = 0x70;
  info[0x61] = 0x00;
  info[0x62] = type;
  std::memcpy(info + 0x68, &gpa, 8);
  ld_ = sha384(info, sizeof(info));
  trace_.push_back({type, gpa, contents, ld_});
}

void SnpPsp::onCall(const hv::testing::FakeCall& call, void* arg) {
  if (call.result < 0) {
    return;
  }
  if (call.name == "KVM_CREATE_VCPU") {
    vcpu_index_[static_cast<int>(call.result)] = static_cast<uint32_t>(call.value);
    return;
  }
  auto vcpu = [&]() -> VcpuModel& { return vcpus_[vcpu_index_[call.fd]]; };
  if (call.name == "KVM_SET_REGS") {
    vcpu().regs = call.arg;
  } else if (call.name == "KVM_SET_SREGS") {
    vcpu().sregs = call.arg;
  } else if (call.name == "KVM_SET_XCRS") {
    vcpu().xcrs = call.arg;
  } else if (call.name == "KVM_SET_DEBUGREGS") {
    vcpu().debugregs = call.arg;
  } else if (call.name == "KVM_SET_FPU") {
    vcpu().fpu = call.arg;
  } else if (call.name == "KVM_SET_MSRS") {
    auto h = load<kvm_msrs>(call.arg.data());
    for (uint32_t i = 0; i < h.nmsrs; ++i) {
      auto e = load<kvm_msr_entry>(call.arg.data() + 8 + 16 * i);
      if (e.index == kMsrPat) {
        vcpu().pat = e.data;
        vcpu().pat_set = true;
      }
    }
  } else if (call.name == "KVM_SEV_INIT2") {
    vmsa_features_ = load<kvm_sev_init>(call.payload.data()).vmsa_features;
  } else if (call.name == "KVM_SEV_SNP_LAUNCH_START") {
    policy_ = load<kvm_sev_snp_launch_start>(call.payload.data()).policy;
    reset();
  } else if (call.name == "KVM_SEV_SNP_LAUNCH_UPDATE") {
    // The request as issued (the live struct has been advanced by the "kernel").
    auto u = load<kvm_sev_snp_launch_update>(call.payload.data());
    for (uint64_t i = 0; i < u.len / 4096; ++i) {
      const auto* src = reinterpret_cast<const std::byte*>(u.uaddr + i * 4096);
      measurePage(u.type, (u.gfn_start + i) * 4096, u.type == kFwPageZero ? nullptr : src);
    }
  } else if (call.name == "MSHV_CREATE_PARTITION") {
    reset();
  } else if (call.name == "MSHV_ROOT_HVCALL(SET_PARTITION_PROPERTY)") {
    auto in = load<hv_input_set_partition_property>(call.payload.data());
    if (in.property_code == kPropIsolationPolicy) {
      policy_ = in.property_value;
    }
  } else if (call.name == "MSHV_SET_GUEST_MEMORY") {
    auto m = load<mshv_user_mem_region>(call.arg.data());
    mshv_memory_.push_back({m.guest_pfn * 4096, m.size, m.userspace_addr});
  } else if (call.name == "MSHV_IMPORT_ISOLATED_PAGES") {
    auto h = load<mshv_import_isolated_pages>(call.arg.data());
    // HV isolated page type -> firmware page type (loader-vmm.md §2.4).
    static constexpr uint8_t kToFirmware[] = {kFwPageNormal,     kFwPageVmsa,    kFwPageZero,
                                              kFwPageUnmeasured, kFwPageSecrets, kFwPageCpuid};
    uint8_t type = kToFirmware[h.page_type];
    for (uint64_t i = 0; i < h.page_count; ++i) {
      uint64_t gpa = load<uint64_t>(call.arg.data() + 16 + 8 * i) * 4096;
      const std::byte* page = nullptr;
      for (const Region& r : mshv_memory_) {
        if (gpa >= r.gpa && gpa - r.gpa < r.size) {
          page = reinterpret_cast<const std::byte*>(r.host + (gpa - r.gpa));
        }
      }
      if (page == nullptr && (type == kFwPageNormal || type == kFwPageVmsa)) {
        finish_error_ = "imported page " + hex(gpa) + " is not in guest memory";
        continue;
      }
      measurePage(type, gpa, page);
    }
  }
  (void)arg;
}

ByteVector SnpPsp::kvmVmsa(const VcpuModel& v) const {
  // KVM's sev_es_sync_vmsa, reduced to the state this loader sets (loader-vmm.md §3.3 step 6). The
  // layout comes from tests/oracles/vmsa_layout.h (Linux's struct sev_es_save_area, checked
  // against microsoft/igvm's SevVmsa), not from the loader's own offset table.
  namespace L = oracles::vmsa;
  ByteVector page(L::kPageSize, std::byte{0});
  auto at = [&](const L::Field& f, size_t within, auto value) {
    std::memcpy(page.data() + f.linux_offset + within, &value, sizeof(value));
  };
  if (v.sregs.size() == sizeof(kvm_sregs)) {
    auto s = load<kvm_sregs>(v.sregs.data());
    // KVM's segment attributes in the VMCB format: type 0-3, S 4, DPL 5-6, P 7, AVL 8, L 9, DB 10,
    // G 11 (svm.c svm_set_segment).
    auto seg = [&](const L::Field& f, const kvm_segment& k) {
      uint16_t attrib =
          static_cast<uint16_t>((k.type & 0xF) | (k.s & 1) << 4 | (k.dpl & 3) << 5 |
                                ((k.present & 1) && !k.unusable) << 7 | (k.avl & 1) << 8 |
                                (k.l & 1) << 9 | (k.db & 1) << 10 | (k.g & 1) << 11);
      at(f, L::kSegSelector, k.selector);
      at(f, L::kSegAttrib, attrib);
      at(f, L::kSegLimit, k.limit);
      at(f, L::kSegBase, k.base);
    };
    seg(L::es, s.es);
    seg(L::cs, s.cs);
    seg(L::ss, s.ss);
    seg(L::ds, s.ds);
    seg(L::fs, s.fs);
    seg(L::gs, s.gs);
    seg(L::ldtr, s.ldt);
    seg(L::tr, s.tr);
    at(L::gdtr, L::kSegLimit, static_cast<uint32_t>(s.gdt.limit));
    at(L::gdtr, L::kSegBase, s.gdt.base);
    at(L::idtr, L::kSegLimit, static_cast<uint32_t>(s.idt.limit));
    at(L::idtr, L::kSegBase, s.idt.base);
    at(L::efer, 0, s.efer | kEferSvme);  // KVM keeps SVME set in the save area
    at(L::cr0, 0, s.cr0);
    at(L::cr2, 0, s.cr2);
    at(L::cr3, 0, s.cr3);
    at(L::cr4, 0, s.cr4);
  }
  if (v.regs.size() == sizeof(kvm_regs)) {
    auto r = load<kvm_regs>(v.regs.data());
    at(L::rax, 0, r.rax);
    at(L::rbx, 0, r.rbx);
    at(L::rcx, 0, r.rcx);
    at(L::rdx, 0, r.rdx);
    at(L::rsi, 0, r.rsi);
    at(L::rdi, 0, r.rdi);
    at(L::rsp, 0, r.rsp);
    at(L::rbp, 0, r.rbp);
    at(L::r8, 0, r.r8);
    at(L::r9, 0, r.r9);
    at(L::r10, 0, r.r10);
    at(L::r11, 0, r.r11);
    at(L::r12, 0, r.r12);
    at(L::r13, 0, r.r13);
    at(L::r14, 0, r.r14);
    at(L::r15, 0, r.r15);
    at(L::rip, 0, r.rip);
    at(L::rflags, 0, r.rflags);
  }
  if (v.xcrs.size() == sizeof(kvm_xcrs)) {
    auto x = load<kvm_xcrs>(v.xcrs.data());
    for (uint32_t i = 0; i < x.nr_xcrs && i < 16; ++i) {
      if (x.xcrs[i].xcr == 0) {
        at(L::xcr0, 0, x.xcrs[i].value);
      }
    }
  }
  if (v.debugregs.size() == sizeof(kvm_debugregs)) {
    auto d = load<kvm_debugregs>(v.debugregs.data());
    at(L::dr6, 0, d.dr6);
    at(L::dr7, 0, d.dr7);
  }
  if (v.fpu.size() == sizeof(kvm_fpu)) {
    auto f = load<kvm_fpu>(v.fpu.data());
    at(L::x87_fcw, 0, f.fcw);
    at(L::mxcsr, 0, f.mxcsr);
  }
  if (v.pat_set) {
    at(L::g_pat, 0, v.pat);
  }
  at(L::sev_features, 0, vmsa_features_ | 1);  // KVM adds SNP_ACTIVE
  return page;
}

std::optional<std::string> SnpPsp::checkIdBlock(const uint8_t* id, const uint8_t* auth,
                                                bool author_key_enabled) const {
  if (std::memcmp(id, ld_.data(), 48) != 0) {
    return "id block launch digest " + hexBytes(Bytes(reinterpret_cast<const std::byte*>(id), 48)) +
           " differs from the measured " +
           hexBytes(Bytes(reinterpret_cast<const std::byte*>(ld_.data()), 48));
  }
  uint32_t version = load<uint32_t>(id + 0x50);
  if (version != 1) {
    return "id block version " + std::to_string(version) + " is not 1";
  }
  uint64_t policy = load<uint64_t>(id + 0x58);
  if (policy != policy_) {
    return "id block policy " + hex(policy) + " differs from the launch policy " + hex(policy_);
  }
  // ID_AUTH_INFO (measurement.md §2.2): the ID key signs the ID block; the author key, when
  // enabled, signs the ID key structure.
  if (auto e = verifySnpSignature(auth + 0x240, auth + 0x40, id, 96)) {
    return "id block " + *e;
  }
  if (author_key_enabled) {
    if (auto e = verifySnpSignature(auth + 0x880, auth + 0x680, auth + 0x240, 0x404)) {
      return "id key author " + *e;
    }
  }
  return std::nullopt;
}

std::optional<long> SnpPsp::onKvmFinish(hv::testing::FakeCall& call, void* arg) {
  (void)call;
  auto* cmd = static_cast<kvm_sev_cmd*>(arg);
  auto fin = load<kvm_sev_snp_launch_finish>(reinterpret_cast<const void*>(cmd->data));
  // KVM measures every vCPU's VMSA, in index order, at INITIAL_VMSA_GPA (measurement.md §1.5).
  kvm_vmsas_.clear();
  std::set<uint32_t> indices;
  for (const auto& [fd, index] : vcpu_index_) {
    indices.insert(index);
  }
  for (uint32_t index : indices) {
    auto it = vcpus_.find(index);
    kvm_vmsas_.push_back(kvmVmsa(it == vcpus_.end() ? VcpuModel{} : it->second));
    measurePage(kFwPageVmsa, 0xFFFFFFFFF000ull, kvm_vmsas_.back().data());
  }
  if (fin.id_block_en != 0) {
    finish_error_ =
        checkIdBlock(reinterpret_cast<const uint8_t*>(fin.id_block_uaddr),
                     reinterpret_cast<const uint8_t*>(fin.id_auth_uaddr), fin.auth_key_en != 0);
    if (finish_error_) {
      cmd->error = kBadMeasurement;
      return -EIO;
    }
  }
  finished_ = true;
  return std::nullopt;
}

std::optional<long> SnpPsp::onMshvComplete(hv::testing::FakeCall& call, void* arg) {
  (void)call;
  const auto* d = static_cast<const hv_partition_complete_isolated_import_data*>(arg);
  if (finish_error_) {
    return -EIO;
  }
  if (d->psp_parameters.id_block_enabled != 0) {
    // The hypervisor's packed auth info is ID_AUTH_INFO without its reserved tail.
    std::array<uint8_t, 4096> auth{};
    std::memcpy(auth.data(), &d->psp_parameters.id_auth_info,
                sizeof(d->psp_parameters.id_auth_info));
    finish_error_ = checkIdBlock(reinterpret_cast<const uint8_t*>(&d->psp_parameters.id_block),
                                 auth.data(), d->psp_parameters.author_key_enabled != 0);
    if (finish_error_) {
      return -EIO;
    }
  }
  finished_ = true;
  return std::nullopt;
}

}  // namespace igvmkit::loader::testing
